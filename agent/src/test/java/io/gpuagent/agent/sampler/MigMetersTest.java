package io.gpuagent.agent.sampler;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.gpuagent.exporter.AgentMetricsWriter;
import io.gpuagent.exporter.GpuInfo;
import io.gpuagent.exporter.GpuSample;
import io.gpuagent.exporter.GpuStatus;
import io.gpuagent.exporter.MigInstance;
import io.gpuagent.exporter.MigSample;
import io.gpuagent.exporter.Reading;
import io.gpuagent.exporter.Snapshot;
import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The MIG mode and MIG device inventory families, written as /metrics writes them, following the snapshots. */
class MigMetersTest {

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final AgentMetricsWriter writer = new AgentMetricsWriter(registry);
    private final MigMeters.Sync sync = new MigMeters.Sync(registry);
    private final GpuInfo gpu0 = new GpuInfo(0, "GPU-0", "NVIDIA H100 80GB HBM3", "", 0, "", "", null);
    private final GpuInfo gpu1 = new GpuInfo(1, "GPU-1", "NVIDIA H100 80GB HBM3", "", 1, "", "", null);

    static MigInstance mig(int gi, String profile, int slices, long memoryMib) {
        return new MigInstance(0, "GPU-0", "MIG-" + gi, gi, 0, profile, slices == 1 ? 0 : 2, slices, 0, 16 * slices,
                memoryMib);
    }

    private GpuSample gpu(GpuInfo info, double current, double pending, MigInstance... migs) {
        GpuSample.Builder b = GpuSample.builder(info);
        if (!Double.isNaN(current)) {
            b.set(Reading.MIG_MODE, current).set(Reading.MIG_MODE_PENDING, pending);
        }
        return b.migDevices(Arrays.stream(migs).map(m -> MigSample.builder(m).build()).toList()).build();
    }

    private String mig() {
        return String.join("\n", writer.writeText().lines().filter(l -> l.contains("gpu_agent_mig_")).toList());
    }

    @Test
    void modeAndInventoryFollowTheSnapshots() {
        MigInstance big = mig(1, "3g.40gb", 3, 40448);
        MigInstance small = mig(5, "1g.10gb", 1, 9856);
        sync.accept(snapshot(gpu(gpu0, 1, 1, big, small), gpu(gpu1, 0, 0)));
        String devices = """
                # HELP gpu_agent_mig_device_info 1 per MIG device (a compute instance on a GPU instance) of the GPU; mig_uuid is what CUDA_VISIBLE_DEVICES and leases name.
                # TYPE gpu_agent_mig_device_info gauge
                gpu_agent_mig_device_info{GPU_CI_ID="0",GPU_I_ID="1",GPU_I_PROFILE="3g.40gb",UUID="GPU-0",gpu="0",mig_uuid="MIG-1",} 1.0
                gpu_agent_mig_device_info{GPU_CI_ID="0",GPU_I_ID="5",GPU_I_PROFILE="1g.10gb",UUID="GPU-0",gpu="0",mig_uuid="MIG-5",} 1.0
                # HELP gpu_agent_mig_device_memory_bytes Memory of the MIG device's GPU instance.
                # TYPE gpu_agent_mig_device_memory_bytes gauge
                gpu_agent_mig_device_memory_bytes{GPU_CI_ID="0",GPU_I_ID="1",GPU_I_PROFILE="3g.40gb",UUID="GPU-0",gpu="0",mig_uuid="MIG-1",} 4.2412802048E10
                gpu_agent_mig_device_memory_bytes{GPU_CI_ID="0",GPU_I_ID="5",GPU_I_PROFILE="1g.10gb",UUID="GPU-0",gpu="0",mig_uuid="MIG-5",} 1.0334765056E10
                # HELP gpu_agent_mig_device_slices GPU slices of the MIG device's GPU instance (of 7 on a whole GPU).
                # TYPE gpu_agent_mig_device_slices gauge
                gpu_agent_mig_device_slices{GPU_CI_ID="0",GPU_I_ID="1",GPU_I_PROFILE="3g.40gb",UUID="GPU-0",gpu="0",mig_uuid="MIG-1",} 3.0
                gpu_agent_mig_device_slices{GPU_CI_ID="0",GPU_I_ID="5",GPU_I_PROFILE="1g.10gb",UUID="GPU-0",gpu="0",mig_uuid="MIG-5",} 1.0
                """;
        String modeHelp = """
                # HELP gpu_agent_mig_mode 1 for the GPU's MIG mode now (current) and after the next GPU reset (pending), each enabled or disabled; they differ while a mode change waits for a reset.
                # TYPE gpu_agent_mig_mode gauge
                """;
        assertEquals(devices + modeHelp + """
                gpu_agent_mig_mode{UUID="GPU-0",current="enabled",gpu="0",pending="enabled",} 1.0
                gpu_agent_mig_mode{UUID="GPU-1",current="disabled",gpu="1",pending="disabled",} 1.0""", mig());

        // GPU 1 set to enter MIG mode at its next reset: visible as current != pending; nothing else moves.
        sync.accept(snapshot(gpu(gpu0, 1, 1, big, small), gpu(gpu1, 0, 1)));
        assertEquals(devices + modeHelp + """
                gpu_agent_mig_mode{UUID="GPU-0",current="enabled",gpu="0",pending="enabled",} 1.0
                gpu_agent_mig_mode{UUID="GPU-1",current="disabled",gpu="1",pending="enabled",} 1.0""", mig());

        // GPU 0 reconfigured (GI 5 destroyed) and lost, GPU 1 gone: its series go, GPU 0 keeps what it last had.
        sync.accept(snapshot(gpu(gpu0, 1, 1, big).withStatus(GpuStatus.LOST, "GPU_IS_LOST")));
        assertEquals("""
                # HELP gpu_agent_mig_device_info 1 per MIG device (a compute instance on a GPU instance) of the GPU; mig_uuid is what CUDA_VISIBLE_DEVICES and leases name.
                # TYPE gpu_agent_mig_device_info gauge
                gpu_agent_mig_device_info{GPU_CI_ID="0",GPU_I_ID="1",GPU_I_PROFILE="3g.40gb",UUID="GPU-0",gpu="0",mig_uuid="MIG-1",} 1.0
                # HELP gpu_agent_mig_device_memory_bytes Memory of the MIG device's GPU instance.
                # TYPE gpu_agent_mig_device_memory_bytes gauge
                gpu_agent_mig_device_memory_bytes{GPU_CI_ID="0",GPU_I_ID="1",GPU_I_PROFILE="3g.40gb",UUID="GPU-0",gpu="0",mig_uuid="MIG-1",} 4.2412802048E10
                # HELP gpu_agent_mig_device_slices GPU slices of the MIG device's GPU instance (of 7 on a whole GPU).
                # TYPE gpu_agent_mig_device_slices gauge
                gpu_agent_mig_device_slices{GPU_CI_ID="0",GPU_I_ID="1",GPU_I_PROFILE="3g.40gb",UUID="GPU-0",gpu="0",mig_uuid="MIG-1",} 3.0
                """ + modeHelp + """
                gpu_agent_mig_mode{UUID="GPU-0",current="enabled",gpu="0",pending="enabled",} 1.0""", mig());
    }

    @Test
    void gpusWithoutMigHaveNoSeriesAndASteadySweepRegistersNothing() {
        GpuInfo a100 = new GpuInfo(2, "GPU-2", "Tesla V100-SXM2-32GB", "", 2, "", "", null);
        sync.accept(snapshot(gpu(a100, Double.NaN, Double.NaN)));
        assertEquals("", mig(), "a GPU that reports no MIG mode");

        MigInstance m = mig(1, "3g.40gb", 3, 40448);
        sync.accept(snapshot(gpu(gpu0, 1, 1, m)));
        List<?> meters = List.copyOf(registry.getMeters());
        for (int sweep = 0; sweep < 3; sweep++) {   // new samples and MIG device records, the same identities
            sync.accept(snapshot(gpu(gpu0, 1, 1, mig(1, "3g.40gb", 3, 40448))));
        }
        assertEquals(meters, List.copyOf(registry.getMeters()), "the same meter objects");
    }

    private static Snapshot snapshot(GpuSample... gpus) {
        return new Snapshot(1, Instant.EPOCH, true, null, "550.54.15", gpus.length, List.of(gpus));
    }
}
