package io.gpuagent.exporter;

import io.gpuagent.nvml.NvmlException;
import io.gpuagent.nvml.NvmlReturn;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The sampler's own {@code gpu_agent_*} series, registered on the agent's registry. Micrometer names use
 * dots and a base unit; its Prometheus naming turns them into {@code gpu_agent_snapshot_age_seconds},
 * {@code gpu_agent_nvml_errors_total}, ... (checked by AgentMetersTest against both Prometheus registries).
 * Gauges read the latest snapshot when scraped: nothing here calls NVML.
 */
final class AgentMeters {
    static final String NVML_UP = "gpu_agent.nvml.up";
    static final String GPUS = "gpu_agent.gpus";
    static final String SNAPSHOT_AGE = "gpu_agent.snapshot.age";
    static final String SAMPLE_DURATION = "gpu_agent.sample.duration";
    static final String NVML_ERRORS = "gpu_agent.nvml.errors";
    static final String GPU_READING_AGE = "gpu_agent.gpu.reading.age";
    static final String GPU_STALE = "gpu_agent.gpu.stale";

    private final MeterRegistry registry;
    private final Supplier<Snapshot> latest;
    private final Clock clock;
    private final Timer sweepTimer;
    private final Map<String, Counter> errors = new ConcurrentHashMap<>();
    private final Set<String> gpusRegistered = ConcurrentHashMap.newKeySet();

    AgentMeters(MeterRegistry registry, Supplier<Snapshot> latest, Clock clock) {
        this.registry = registry;
        this.latest = latest;
        this.clock = clock;
        Gauge.builder(NVML_UP, latest, s -> s.get().nvmlUp() ? 1 : 0)
                .description("1 when NVML is loaded and initialised.").strongReference(true).register(registry);
        Gauge.builder(GPUS, latest, s -> s.get().deviceCount())
                .description("GPUs the driver reports; compare with the expected count to see a GPU that vanished.")
                .strongReference(true).register(registry);
        Gauge.builder(SNAPSHOT_AGE, this, AgentMeters::snapshotAgeSeconds).baseUnit("seconds")
                .description("Age of the GPU readings being served: the oldest GPU's reading that is not lost.")
                .strongReference(true).register(registry);
        sweepTimer = Timer.builder(SAMPLE_DURATION)
                .description("Duration of one sampler sweep over all GPUs.")
                .serviceLevelObjectives(ms(1), ms(2), ms(5), ms(10), ms(25), ms(50), ms(100), ms(250), ms(500),
                        ms(1000), ms(2500), ms(5000), ms(10000))
                .register(registry);
    }

    private static Duration ms(long millis) {
        return Duration.ofMillis(millis);
    }

    double snapshotAgeSeconds() {
        return latest.get().age(clock.instant()).toNanos() / 1e9;
    }

    void recordSweep(long nanos) {
        sweepTimer.record(nanos, TimeUnit.NANOSECONDS);
    }

    /** Counts a failed NVML call. NOT_SUPPORTED (a capability, not a failure) is never counted. */
    void nvmlError(NvmlException e) {
        if (!e.notSupported()) {
            nvmlError(e.function(), e.code());
        }
    }

    void nvmlError(String function, int code) {
        NvmlReturn r = NvmlReturn.of(code);
        String codeLabel = r == NvmlReturn.UNRECOGNIZED ? Integer.toString(code) : r.name();
        errors.computeIfAbsent(function + '\0' + codeLabel, k -> Counter.builder(NVML_ERRORS)
                .description("Failed NVML calls, by function and return code (NOT_SUPPORTED is not counted).")
                .tag("function", function).tag("code", codeLabel).register(registry)).increment();
    }

    /** Registers the per-GPU gauges the first time a GPU identity is seen (bounded by the GPUs a host has). */
    void gpuSeen(GpuInfo info) {
        if (!info.known() || !gpusRegistered.add(info.index() + "/" + info.uuid())) {
            return;
        }
        int index = info.index();
        String gpu = Integer.toString(index);
        String uuid = info.uuid();
        Gauge.builder(GPU_READING_AGE, this, m -> m.gpuAgeSeconds(index, uuid)).baseUnit("seconds")
                .description("Age of this GPU's readings; grows while a read hangs or the GPU is lost.")
                .tag("gpu", gpu).tag("UUID", uuid).strongReference(true).register(registry);
        Gauge.builder(GPU_STALE, this, m -> m.gpuStale(index, uuid))
                .description("1 while this GPU's readings are not fresh (read past its deadline, or GPU lost).")
                .tag("gpu", gpu).tag("UUID", uuid).strongReference(true).register(registry);
    }

    // Read at every scrape for every GPU: no Optional, Duration or boxed value (garbage per scrape is what
    // makes the young collections that stall the scrapes).
    private double gpuAgeSeconds(int index, String uuid) {
        GpuSample g = latest.get().sample(index, uuid);
        if (g == null) {
            return Double.NaN;
        }
        Instant now = clock.instant();
        Instant readAt = g.readAt();
        long nanos = (now.getEpochSecond() - readAt.getEpochSecond()) * 1_000_000_000L + now.getNano() - readAt.getNano();
        return Math.max(0, nanos / 1e9);
    }

    private double gpuStale(int index, String uuid) {
        GpuSample g = latest.get().sample(index, uuid);
        return g == null ? Double.NaN : g.status() == GpuStatus.OK ? 0.0 : 1.0;
    }
}
