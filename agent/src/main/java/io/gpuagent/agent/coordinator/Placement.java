package io.gpuagent.agent.coordinator;

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

    /** The lease on one node. */
    public record Allocation(String node, String agentUrl, String leaseId, List<String> gpus, Map<String, String> env,
                             long fencingToken) {
        public Allocation {
            gpus = List.copyOf(gpus);
            env = env == null ? Map.of() : Map.copyOf(env);
        }
    }

    public Placement withAllocations(List<Allocation> remaining) {
        return new Placement(placementId, jobId, remaining, expiresAt);
    }
}
