package io.gpuagent.agent.coordinator;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonInclude;
import io.gpuagent.agent.lease.Lease;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A job's GPUs as the coordinator placed them: one lease per node. The body of {@code POST /v1/placements}'s
 * 201 and an item of {@code GET /v1/placements} (docs/placement-protocol.md).
 *
 * @param expiresAt the earliest of the leases' expiry times (a job heartbeats its leases on the agents)
 */
public record Placement(String placementId, String jobId, List<Allocation> allocations, Instant expiresAt) {

    public Placement {
        allocations = List.copyOf(allocations);
    }

    /**
     * The lease on one node.
     *
     * @param gpus the leased devices' UUIDs: {@code GPU-}, or {@code MIG-} for MIG devices
     * @param mig  of MIG devices, where each is (parent GPU, address, profile), as the agent answered; empty, and
     *             left out of the JSON, for whole GPUs and in journal lines written before MIG placements
     */
    public record Allocation(String node, String agentUrl, String leaseId, List<String> gpus, Map<String, String> env,
                             long fencingToken, @JsonInclude(JsonInclude.Include.NON_EMPTY) List<Lease.MigDevice> mig) {
        @JsonCreator
        public Allocation {
            gpus = List.copyOf(gpus);
            env = env == null ? Map.of() : Map.copyOf(env);
            mig = mig == null ? List.of() : List.copyOf(mig);
        }

        /** An allocation of whole GPUs. */
        public Allocation(String node, String agentUrl, String leaseId, List<String> gpus, Map<String, String> env,
                          long fencingToken) {
            this(node, agentUrl, leaseId, gpus, env, fencingToken, List.of());
        }
    }

    public Placement withAllocations(List<Allocation> remaining) {
        return new Placement(placementId, jobId, remaining, expiresAt);
    }
}
