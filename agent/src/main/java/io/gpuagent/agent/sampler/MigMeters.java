package io.gpuagent.agent.sampler;

import io.gpuagent.agent.AgentRegistry;
import io.gpuagent.exporter.GpuInfo;
import io.gpuagent.exporter.GpuSample;
import io.gpuagent.exporter.MigInstance;
import io.gpuagent.exporter.MigSample;
import io.gpuagent.exporter.Reading;
import io.gpuagent.exporter.Snapshot;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.quarkus.runtime.Startup;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * What dcgm-exporter does not say about MIG, as {@code gpu_agent_*} series (docs/metrics.md#mig):
 * <ul>
 *   <li>{@code gpu_agent_mig_mode{gpu,UUID,current,pending}} 1, {@code current} and {@code pending} being
 *       {@code enabled} or {@code disabled}: a mode change waiting for a GPU reset shows as current != pending.
 *       GPUs without MIG have none.</li>
 *   <li>per MIG device, labelled {@code gpu, UUID} (the parent's), {@code GPU_I_ID, GPU_I_PROFILE} (as on the
 *       dcgm-exporter series, to join on), {@code GPU_CI_ID} and {@code mig_uuid}:
 *       {@code gpu_agent_mig_device_info} 1, {@code gpu_agent_mig_device_slices} (GPU slices its GPU instance
 *       holds) and {@code gpu_agent_mig_device_memory_bytes} (its GPU instance's memory).</li>
 * </ul>
 * At most 7 MIG devices per GPU (7 GPU slices), so at most 22 series per GPU. Every value is fixed for its
 * labels: the set is rebuilt for a GPU whose identity, mode or MIG devices changed, on the sampler thread; a
 * steady sweep compares and registers nothing. A LOST GPU keeps its series, a vanished one loses them.
 */
@Startup
@ApplicationScoped
public class MigMeters {

    static final String MODE = "gpu_agent.mig.mode";
    static final String DEVICE_INFO = "gpu_agent.mig.device.info";
    static final String DEVICE_SLICES = "gpu_agent.mig.device.slices";
    static final String DEVICE_MEMORY = "gpu_agent.mig.device.memory";

    public MigMeters(SamplerService sampler, AgentRegistry agentRegistry) {
        sampler.onSnapshot(new Sync(agentRegistry.registry()));
    }

    /** Keeps the registry's MIG meters in step with the snapshots; one per agent, fed by the sampler thread. */
    static final class Sync implements Consumer<Snapshot> {
        private final MeterRegistry registry;
        private Gpu[] gpus = new Gpu[0];

        /** What a snapshot position's meters were registered for. */
        private static final class Gpu {
            GpuInfo info;
            double current = Double.NaN;
            double pending = Double.NaN;
            List<MigInstance> migs = List.of();
            final List<Meter> meters = new ArrayList<>();
        }

        Sync(MeterRegistry registry) {
            this.registry = registry;
        }

        @Override
        public synchronized void accept(Snapshot snapshot) {
            List<GpuSample> samples = snapshot.gpus();
            int size = Math.max(gpus.length, samples.size());
            boolean[] changed = null;
            // Remove first, register second: a GPU that moved to another position keeps its meter ids.
            for (int i = 0; i < size; i++) {
                GpuSample g = i < samples.size() ? samples.get(i) : null;
                Gpu known = i < gpus.length ? gpus[i] : null;
                if (known == null ? g == null || !applies(g) : !changedFrom(known, g)) {
                    continue;
                }
                if (changed == null) {
                    changed = new boolean[size];
                }
                changed[i] = true;
                if (known != null) {
                    known.meters.forEach(registry::remove);
                }
            }
            if (changed == null) {
                return;
            }
            Gpu[] next = Arrays.copyOf(gpus, samples.size());
            for (int i = 0; i < samples.size(); i++) {
                if (changed[i]) {
                    next[i] = applies(samples.get(i)) ? register(samples.get(i)) : null;
                }
            }
            gpus = next;
        }

        /** Whether {@code g} has any MIG series: a known GPU that reports a MIG mode or has MIG devices. */
        private static boolean applies(GpuSample g) {
            return g.info().known() && (g.has(Reading.MIG_MODE) || !g.migDevices().isEmpty());
        }

        private static boolean changedFrom(Gpu known, GpuSample g) {
            if (g == null || known.info != g.info() || !same(known.current, g.raw(Reading.MIG_MODE))
                    || !same(known.pending, g.raw(Reading.MIG_MODE_PENDING))) {
                return true;
            }
            List<MigSample> migs = g.migDevices();
            if (migs.size() != known.migs.size()) {
                return true;
            }
            for (int c = 0; c < migs.size(); c++) {
                if (!known.migs.get(c).equals(migs.get(c).info())) {
                    return true;
                }
            }
            return false;
        }

        private static boolean same(double a, double b) {
            return Double.compare(a, b) == 0;   // NaN equals NaN: a mode not read stays not read
        }

        private Gpu register(GpuSample g) {
            Gpu r = new Gpu();
            r.info = g.info();
            r.current = g.raw(Reading.MIG_MODE);
            r.pending = g.raw(Reading.MIG_MODE_PENDING);
            r.migs = g.migDevices().stream().map(MigSample::info).toList();
            Tags gpu = Tags.of("gpu", Integer.toString(r.info.index()), "UUID", r.info.uuid());
            if (!Double.isNaN(r.current)) {
                r.meters.add(constant(MODE, "1 for the GPU's MIG mode now (current) and after the next GPU reset (pending),"
                        + " each enabled or disabled; they differ while a mode change waits for a reset.",
                        gpu.and("current", mode(r.current), "pending", mode(Double.isNaN(r.pending) ? r.current : r.pending)),
                        1, null));
            }
            for (MigInstance m : r.migs) {
                Tags tags = gpu.and("GPU_I_ID", Integer.toString(m.gpuInstanceId()), "GPU_I_PROFILE", m.profile(),
                        "GPU_CI_ID", Integer.toString(m.computeInstanceId()), "mig_uuid", m.uuid());
                r.meters.add(constant(DEVICE_INFO, "1 per MIG device (a compute instance on a GPU instance) of the GPU; "
                        + "mig_uuid is what CUDA_VISIBLE_DEVICES and leases name.", tags, 1, null));
                r.meters.add(constant(DEVICE_SLICES, "GPU slices of the MIG device's GPU instance (of 7 on a whole GPU).",
                        tags, m.slices(), null));
                r.meters.add(constant(DEVICE_MEMORY, "Memory of the MIG device's GPU instance.", tags,
                        m.memoryMib() * 1024.0 * 1024.0, "bytes"));
            }
            return r;
        }

        private Gauge constant(String name, String help, Tags tags, double value, String baseUnit) {
            return Gauge.builder(name, () -> value).description(help).tags(tags).baseUnit(baseUnit)
                    .strongReference(true).register(registry);
        }

        private static String mode(double v) {
            return v == 1 ? "enabled" : "disabled";
        }
    }
}
