package io.gpuagent.exporter;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Everything one sweep read, immutable; the sampler publishes it through an {@code AtomicReference}, and
 * every scrape, detector and API call reads the latest one without touching NVML.
 *
 * @param sequence       1, 2, ... per published sweep; 0 for the "no sweep yet" snapshot
 * @param takenAt        when the sweep started
 * @param nvmlUp         whether NVML was loaded and initialised
 * @param nvmlDownReason why it is not (from {@link NvmlSource#downReason()}); null when up
 * @param driverVersion  {@code nvmlSystemGetDriverVersion}; empty when unknown
 * @param deviceCount    GPUs the driver reports ({@code nvmlDeviceGetCount_v2}); 0 while NVML is down
 * @param gpus           one sample per GPU, in index order (GPUs answering NO_PERMISSION are left out; LOST
 *                       GPUs stay, with status LOST)
 * @param topology       how the GPUs reach each other (PCIe common ancestor, NVLink), read once per set of
 *                       GPUs; {@link Topology#EMPTY} until every GPU was read once
 */
public record Snapshot(long sequence, Instant takenAt, boolean nvmlUp, String nvmlDownReason, String driverVersion,
                       int deviceCount, List<GpuSample> gpus, Topology topology) {

    public Snapshot {
        driverVersion = driverVersion == null ? "" : driverVersion;
        gpus = List.copyOf(gpus);
        topology = topology == null ? Topology.EMPTY : topology;
    }

    /** A snapshot without topology (tests, and callers that do not read it). */
    public Snapshot(long sequence, Instant takenAt, boolean nvmlUp, String nvmlDownReason, String driverVersion,
                    int deviceCount, List<GpuSample> gpus) {
        this(sequence, takenAt, nvmlUp, nvmlDownReason, driverVersion, deviceCount, gpus, Topology.EMPTY);
    }

    /** The snapshot served before the first sweep: no GPUs, NVML not up yet. */
    public static Snapshot initial(Instant now) {
        return new Snapshot(0, now, false, "no sweep yet", "", 0, List.of());
    }

    public Optional<GpuSample> gpu(int index) {
        for (GpuSample g : gpus) {
            if (g.index() == index) {
                return Optional.of(g);
            }
        }
        return Optional.empty();
    }

    public Optional<GpuSample> gpu(String uuid) {
        return Optional.ofNullable(sample(-1, uuid));
    }

    /**
     * The GPU with this UUID, or null. {@code index} is where it usually is (the list is in index order, so
     * at that position unless a GPU before it is left out) and is tried first: the per-GPU gauges call this
     * for every GPU at every scrape, and must neither allocate nor scan the list.
     */
    public GpuSample sample(int index, String uuid) {
        if (index >= 0 && index < gpus.size()) {
            GpuSample g = gpus.get(index);
            if (g.uuid().equals(uuid)) {
                return g;
            }
        }
        for (int i = 0; i < gpus.size(); i++) {
            GpuSample g = gpus.get(i);
            if (g.uuid().equals(uuid)) {
                return g;
            }
        }
        return null;
    }

    /**
     * Age of the oldest reading served: {@code now} minus the oldest {@link GpuSample#readAt()} among GPUs that
     * are not LOST (so one hung GPU shows), or minus {@link #takenAt()} when there are none.
     */
    public Duration age(Instant now) {
        Instant oldest = null;
        for (GpuSample g : gpus) {
            if (g.status() != GpuStatus.LOST && (oldest == null || g.readAt().isBefore(oldest))) {
                oldest = g.readAt();
            }
        }
        Duration age = Duration.between(oldest == null ? takenAt : oldest, now);
        return age.isNegative() ? Duration.ZERO : age;
    }

    /** GPUs whose status is {@code status}. */
    public List<GpuSample> gpus(GpuStatus status) {
        return gpus.stream().filter(g -> g.status() == status).toList();
    }
}
