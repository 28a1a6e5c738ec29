package io.gpuagent.agent.lease;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * What the recovery engine needs from the lease book: whether a GPU is leased, and a way to end that lease
 * when a drain's deadline passes. Implemented by the lease book ({@link LeaseBook}).
 */
public interface GpuLeases {

    /** A lease holding a GPU. */
    record Held(String leaseId, String jobId, Instant expiresAt) {
    }

    /** The live lease on the device (a whole GPU, or a MIG device) with this UUID, if any. */
    Optional<Held> leaseOn(String uuid);

    /**
     * Every live lease that holds this device or, for a GPU in MIG mode, any of its MIG devices (by the parent
     * each lease recorded when granted, so also after the MIG devices are gone), in grant order. What keeps a
     * GPU from being drained or reset.
     */
    List<Held> leasesOn(String uuid);

    /**
     * Ends every lease that holds this device or, for a GPU, any of its MIG devices (the whole lease, all its
     * devices: a job cannot run on part of its allocation), journaled like a release, with {@code reason}
     * recorded. Returns how many leases ended.
     */
    int endLeasesOn(String uuid, String reason);
}
