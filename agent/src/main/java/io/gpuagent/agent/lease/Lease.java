package io.gpuagent.agent.lease;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonInclude;
import io.gpuagent.exporter.MigInstance;
import java.time.Instant;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A granted lease: the body of {@code 201} on {@code POST /v1/leases}, of {@code GET /v1/leases/{id}}, and
 * what the journal keeps (docs/placement-protocol.md). A lease holds whole GPUs or MIG devices, never both.
 *
 * @param gpus         UUIDs, in index order: {@code GPU-} UUIDs, or the {@code MIG-} UUIDs of a MIG lease (in
 *                     GPU, GPU instance, compute instance order)
 * @param indices      NVML indices of the same GPUs, same order; of a MIG lease, each device's parent GPU
 * @param env          what the job exports: CUDA_VISIBLE_DEVICES (indices; a MIG lease's {@code MIG-} UUIDs),
 *                     NVIDIA_VISIBLE_DEVICES (UUIDs), CUDA_DEVICE_ORDER=PCI_BUS_ID (so CUDA numbers GPUs as NVML does)
 * @param ttlSeconds   each heartbeat moves expiresAt to now + this
 * @param fencingToken increases with every grant on this node, across restarts
 * @param mig          of a MIG lease, what a job needs to know of each device (same order as {@code gpus}); empty,
 *                     and left out of the JSON, for whole GPUs. Journal lines written before MIG leases have none.
 */
public record Lease(String leaseId, String jobId, List<String> gpus, List<Integer> indices, Map<String, String> env,
                    Instant grantedAt, Instant expiresAt, long ttlSeconds, long fencingToken,
                    @JsonInclude(JsonInclude.Include.NON_EMPTY) List<MigDevice> mig) {

    @JsonCreator
    public Lease {
        gpus = List.copyOf(gpus);
        indices = List.copyOf(indices);
        env = Map.copyOf(env);
        mig = mig == null ? List.of() : List.copyOf(mig);
    }

    /** A lease of whole GPUs. */
    public Lease(String leaseId, String jobId, List<String> gpus, List<Integer> indices, Map<String, String> env,
                 Instant grantedAt, Instant expiresAt, long ttlSeconds, long fencingToken) {
        this(leaseId, jobId, gpus, indices, env, grantedAt, expiresAt, ttlSeconds, fencingToken, List.of());
    }

    /**
     * One MIG device of a lease: where it is, so that a job (or a Slurm script) can tell its devices apart and
     * find them in {@code nvidia-smi}, {@code /v1/gpus} and the metrics.
     *
     * @param gpuIndex   NVML index of the parent GPU
     * @param parentUuid {@code GPU-} UUID of the parent: a reset or a drain of it covers this device
     * @param address    {@code <gpu>/<gi>} (or {@code <gpu>/<gi>/<ci>}), as the API addresses MIG devices
     * @param memoryMiB  memory of its GPU instance
     */
    public record MigDevice(String uuid, int gpuIndex, String parentUuid, String address, String profile,
                            int gpuInstanceId, int computeInstanceId, long memoryMiB) {

        static MigDevice of(MigInstance m) {
            return new MigDevice(m.uuid(), m.gpuIndex(), m.parentUuid(), m.address(), m.profile(), m.gpuInstanceId(),
                    m.computeInstanceId(), m.memoryMib());
        }
    }

    /** A new lease of {@code gpus} (in index order) until {@code grantedAt + ttlSeconds}, with the job's env. */
    static Lease of(String leaseId, String jobId, List<GpuStanding> gpus, Instant grantedAt, long ttlSeconds,
                    long fencingToken) {
        List<String> uuids = gpus.stream().map(GpuStanding::uuid).toList();
        List<Integer> indices = gpus.stream().map(GpuStanding::index).toList();
        Map<String, String> env = new LinkedHashMap<>();
        env.put("CUDA_VISIBLE_DEVICES", indices.stream().map(String::valueOf).collect(Collectors.joining(",")));
        env.put("NVIDIA_VISIBLE_DEVICES", String.join(",", uuids));
        env.put("CUDA_DEVICE_ORDER", "PCI_BUS_ID");
        return new Lease(leaseId, jobId, uuids, indices, env, grantedAt, grantedAt.plusSeconds(ttlSeconds), ttlSeconds,
                fencingToken);
    }

    /**
     * A new lease of MIG devices (in GPU, GPU instance, compute instance order). CUDA takes {@code MIG-} UUIDs in
     * CUDA_VISIBLE_DEVICES (indices cannot name a MIG device); a CUDA process uses the first MIG device it is
     * given, so a job of several devices runs one process per device (docs/placement.md#mig-leases).
     */
    static Lease ofMig(String leaseId, String jobId, List<MigStanding> devices, Instant grantedAt, long ttlSeconds,
                       long fencingToken) {
        List<MigDevice> mig = devices.stream().map(d -> MigDevice.of(d.device())).toList();
        List<String> uuids = mig.stream().map(MigDevice::uuid).toList();
        Map<String, String> env = new LinkedHashMap<>();
        env.put("CUDA_VISIBLE_DEVICES", String.join(",", uuids));
        env.put("NVIDIA_VISIBLE_DEVICES", String.join(",", uuids));
        env.put("CUDA_DEVICE_ORDER", "PCI_BUS_ID");
        return new Lease(leaseId, jobId, uuids, mig.stream().map(MigDevice::gpuIndex).toList(), env, grantedAt,
                grantedAt.plusSeconds(ttlSeconds), ttlSeconds, fencingToken, mig);
    }

    public Lease withExpiresAt(Instant newExpiresAt) {
        return new Lease(leaseId, jobId, gpus, indices, env, grantedAt, newExpiresAt, ttlSeconds, fencingToken, mig);
    }

    public boolean expiredAt(Instant now) {
        return !expiresAt.isAfter(now);
    }

    /**
     * Whether this lease holds the device with this UUID or, for a GPU, any of its MIG devices: what a drain or
     * a reset of the GPU must wait for.
     */
    public boolean holds(String uuid) {
        return gpus.contains(uuid) || mig.stream().anyMatch(m -> m.parentUuid().equals(uuid));
    }

    /** Of {@code leases}, those live at {@code now} that {@link #holds} the device: {@link GpuLeases#leasesOn}. */
    public static List<GpuLeases.Held> holding(String uuid, Collection<Lease> leases, Instant now) {
        return leases.stream().filter(l -> l.holds(uuid) && !l.expiredAt(now)).map(Lease::held).toList();
    }

    /** "GPUs [0, 1] [GPU-..., GPU-...]" or "MIG devices [0/1, 0/2] [MIG-..., MIG-...]", for log lines and events. */
    public String devices() {
        return mig.isEmpty() ? "GPUs " + indices + " " + gpus
                : "MIG devices " + mig.stream().map(MigDevice::address).toList() + " " + gpus;
    }

    public GpuLeases.Held held() {
        return new GpuLeases.Held(leaseId, jobId, expiresAt);
    }
}
