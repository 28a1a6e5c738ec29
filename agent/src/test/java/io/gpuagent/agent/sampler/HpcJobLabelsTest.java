package io.gpuagent.agent.sampler;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.gpuagent.exporter.GpuDecorator;
import io.gpuagent.exporter.GpuInfo;
import io.gpuagent.exporter.GpuMetricsWriter;
import io.gpuagent.exporter.GpuSample;
import io.gpuagent.exporter.MetricCatalog;
import io.gpuagent.exporter.MigInstance;
import io.gpuagent.exporter.MigSample;
import io.gpuagent.exporter.Reading;
import io.gpuagent.exporter.Snapshot;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The agent's decorators on a GPU in MIG mode, through the real writer as SamplerService wires them: a lease of
 * a {@code MIG-} UUID labels that GPU instance's series only, and XIDs land on the instance they named.
 */
class HpcJobLabelsTest {

    private final XidLedger xids = new XidLedger();
    private final HpcJobLabels jobs = new HpcJobLabels();
    private final GpuMetricsWriter writer = new GpuMetricsWriter(List.of(
            MetricCatalog.byName("DCGM_FI_DEV_FB_USED").orElseThrow(), MetricCatalog.byName("DCGM_FI_DEV_XID_ERRORS").orElseThrow()),
            "Hostname", "node1", GpuDecorator.combine(xids, jobs));
    private final GpuInfo info = new GpuInfo(0, "GPU-0", "NVIDIA H100 80GB HBM3", "00000000:18:00.0", 0, "", "", null);
    private final MigInstance gi1 = new MigInstance(0, "GPU-0", "MIG-aaaa", 1, 0, "1g.10gb", 0, 1, 4, 16, 9856);
    private final MigInstance gi2 = new MigInstance(0, "GPU-0", "MIG-bbbb", 2, 0, "1g.10gb", 0, 1, 5, 16, 9856);
    private final Snapshot snapshot = new Snapshot(1, Instant.EPOCH, true, null, "550.54.15", 1, List.of(
            GpuSample.builder(info).set(Reading.MIG_MODE, 1).migDevices(List.of(
                    MigSample.builder(gi1).set(Reading.FB_USED_MIB, 100).build(),
                    MigSample.builder(gi2).set(Reading.FB_USED_MIB, 200).build())).build()));

    private static final String GPU = "gpu=\"0\",UUID=\"GPU-0\",pci_bus_id=\"00000000:18:00.0\",device=\"nvidia0\","
            + "modelName=\"NVIDIA H100 80GB HBM3\",GPU_I_PROFILE=\"1g.10gb\",GPU_I_ID=\"%d\",Hostname=\"node1\","
            + "DCGM_FI_DRIVER_VERSION=\"550.54.15\"";

    @Test
    void aLeaseOfAMigDeviceLabelsThatInstanceAndNotItsSiblings() {
        jobs.publish(Map.of("MIG-bbbb", "job-42"));
        assertEquals(List.of("DCGM_FI_DEV_FB_USED{" + GPU.formatted(1) + "} 100",
                "DCGM_FI_DEV_FB_USED{" + GPU.formatted(2) + ",hpc_job=\"job-42\"} 200"), lines("DCGM_FI_DEV_FB_USED{"));

        jobs.publish(Map.of("GPU-0", "whole-gpu-job"));   // never granted on a MIG GPU; and if it were, not an instance's
        assertEquals(List.of("DCGM_FI_DEV_FB_USED{" + GPU.formatted(1) + "} 100",
                "DCGM_FI_DEV_FB_USED{" + GPU.formatted(2) + "} 200"), lines("DCGM_FI_DEV_FB_USED{"));
    }

    @Test
    void xidsLandOnTheInstanceTheyNamedAndAGpuWideOneOnEveryInstance() {
        xids.record("MIG-aaaa", 31);
        assertEquals(List.of(xid(1, 31), xid(2, 0)), lines("DCGM_FI_DEV_XID_ERRORS{"));
        xids.record("GPU-0", 79);
        assertEquals(List.of(xid(1, 79), xid(2, 79)), lines("DCGM_FI_DEV_XID_ERRORS{"), "the later, GPU-wide one");
        xids.record("MIG-bbbb", 43);
        assertEquals(List.of(xid(1, 79), xid(2, 43)), lines("DCGM_FI_DEV_XID_ERRORS{"), "GI 2's own, later one");
    }

    private static String xid(int gi, int code) {
        return "DCGM_FI_DEV_XID_ERRORS{" + GPU.formatted(gi) + ",err_code=\"" + code + "\"} " + code;
    }

    private List<String> lines(String prefix) {
        return writer.renderText(snapshot).lines().filter(l -> l.startsWith(prefix)).toList();
    }
}
