package io.gpuagent.agent.lease;

import java.time.Instant;
import java.util.Optional;

/**
 * What the recovery engine needs from the lease book: whether a GPU is leased, and a way to end that lease
 * when a drain's deadline passes. Implemented by the lease book ({@link LeaseBook}).
 */
public interface GpuLeases {

    /** A lease holding a GPU. */
    record Held(String leaseId, String jobId, Instant expiresAt) {
    }

    /** The live lease on the GPU with this UUID, if any. */
    Optional<Held> leaseOn(String uuid);

    /**
     * Ends every lease that holds this GPU (the whole lease, all its GPUs: a job cannot run on part of its
     * allocation), journaled like a release, with {@code reason} recorded. Returns how many leases ended.
     */
    int endLeasesOn(String uuid, String reason);
}
