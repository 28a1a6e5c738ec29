package io.gpuagent.agent.lease;

import java.time.Instant;
import java.util.List;

/**
 * What this node has and how healthy it is: the body of {@code GET /v1/inventory} and of the agent's
 * heartbeat to the coordinator (docs/placement-protocol.md). Built from the latest snapshot, the health
 * model, the cordons and the lease book; never calls NVML.
 *
 * @param node     the node name (gpu-agent.hostname, else the OS host name)
 * @param agentUrl where a coordinator reaches this agent's lease API
 * @param takenAt  when this inventory was built
 * @param healthy  what {@code /health} answers right now (false: 503)
 * @param gpus     every GPU, in index order
 * @param links    one entry per unordered GPU pair (a before b by index)
 */
public record Inventory(String node, String agentUrl, Instant takenAt, boolean healthy, List<Gpu> gpus,
                        List<Link> links) {

    public Inventory {
        gpus = List.copyOf(gpus);
        links = List.copyOf(links);
    }

    /**
     * One GPU.
     *
     * @param health         HealthState name
     * @param reasons        "detector code: message" of each reason, worst first
     * @param memoryTotalMiB null when not read
     * @param memoryFreeMiB  null when not read
     * @param lease          the lease holding it, null when free
     * @param leasable       HEALTHY or DEGRADED, not cordoned, not leased, fresh readings: a lease may take it now
     */
    public record Gpu(int index, String uuid, String name, String pciBusId, String health, List<String> reasons,
                      boolean cordoned, Long memoryTotalMiB, Long memoryFreeMiB, GpuLeases.Held lease,
                      boolean leasable) {

        public Gpu {
            reasons = List.copyOf(reasons);
        }
    }

    /**
     * How two GPUs reach each other.
     *
     * @param nvlink        true when they share an NVLink domain (a direct link or the same NVSwitches)
     * @param nvlinkCount   direct or switch links of {@code a} that reach {@code b}'s domain (0 without NVLink)
     * @param pcieAncestor  NVML's common ancestor level: INTERNAL, SINGLE, MULTIPLE, HOSTBRIDGE, NODE, SYSTEM
     *                      (null when the driver does not say)
     */
    public record Link(String a, String b, boolean nvlink, int nvlinkCount, String pcieAncestor) {
    }
}
