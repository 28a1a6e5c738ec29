package io.gpuagent.agent.lease;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A granted lease: the body of {@code 201} on {@code POST /v1/leases}, of {@code GET /v1/leases/{id}}, and
 * what the journal keeps (docs/placement-protocol.md).
 *
 * @param gpus         UUIDs, in index order
 * @param indices      NVML indices of the same GPUs, same order
 * @param env          what the job exports: CUDA_VISIBLE_DEVICES (indices), NVIDIA_VISIBLE_DEVICES (UUIDs),
 *                     CUDA_DEVICE_ORDER=PCI_BUS_ID (so CUDA numbers GPUs as NVML does)
 * @param ttlSeconds   each heartbeat moves expiresAt to now + this
 * @param fencingToken increases with every grant on this node, across restarts
 */
public record Lease(String leaseId, String jobId, List<String> gpus, List<Integer> indices, Map<String, String> env,
                    Instant grantedAt, Instant expiresAt, long ttlSeconds, long fencingToken) {

    public Lease {
        gpus = List.copyOf(gpus);
        indices = List.copyOf(indices);
        env = Map.copyOf(env);
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

    public Lease withExpiresAt(Instant newExpiresAt) {
        return new Lease(leaseId, jobId, gpus, indices, env, grantedAt, newExpiresAt, ttlSeconds, fencingToken);
    }

    public boolean expiredAt(Instant now) {
        return !expiresAt.isAfter(now);
    }

    public GpuLeases.Held held() {
        return new GpuLeases.Held(leaseId, jobId, expiresAt);
    }
}
