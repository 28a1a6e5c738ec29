package io.gpuagent.agent.lease;

import com.fasterxml.jackson.annotation.JsonCreator;
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
 * @param mig      every MIG device of the GPUs in MIG mode, in GPU, GPU instance, compute instance order (at most
 *                 {@link #MAX_MIG_PER_GPU} per GPU); empty from agents older than MIG leases
 */
public record Inventory(String node, String agentUrl, Instant takenAt, boolean healthy, List<Gpu> gpus,
                        List<Link> links, List<Mig> mig) {

    /**
     * MIG devices one GPU can hold: one per compute slice (A100, H100, H200, B200: 7), whether as GPU instances
     * or compute instances of them.
     */
    public static final int MAX_MIG_PER_GPU = 7;

    @JsonCreator
    public Inventory {
        gpus = List.copyOf(gpus);
        links = List.copyOf(links);
        mig = mig == null ? List.of() : List.copyOf(mig);
    }

    /** A node without MIG devices. */
    public Inventory(String node, String agentUrl, Instant takenAt, boolean healthy, List<Gpu> gpus, List<Link> links) {
        this(node, agentUrl, takenAt, healthy, gpus, links, List.of());
    }

    /**
     * One GPU.
     *
     * @param health         HealthState name
     * @param reasons        "detector code: message" of each reason, worst first
     * @param memoryTotalMiB null when not read
     * @param memoryFreeMiB  null when not read
     * @param lease          the lease holding it, null when free
     * @param leasable       HEALTHY or DEGRADED, not cordoned, not leased, fresh readings, not in MIG mode: a lease
     *                       may take it whole now
     * @param migMode        in MIG mode: never leased whole (its MIG devices are in {@link Inventory#mig}); false
     *                       from agents older than MIG leases
     */
    public record Gpu(int index, String uuid, String name, String pciBusId, String health, List<String> reasons,
                      boolean cordoned, Long memoryTotalMiB, Long memoryFreeMiB, GpuLeases.Held lease,
                      boolean leasable, boolean migMode) {

        @JsonCreator
        public Gpu {
            reasons = List.copyOf(reasons);
        }

        /** A GPU not in MIG mode. */
        public Gpu(int index, String uuid, String name, String pciBusId, String health, List<String> reasons,
                   boolean cordoned, Long memoryTotalMiB, Long memoryFreeMiB, GpuLeases.Held lease, boolean leasable) {
            this(index, uuid, name, pciBusId, health, reasons, cordoned, memoryTotalMiB, memoryFreeMiB, lease, leasable,
                    false);
        }
    }

    /**
     * One MIG device: what the coordinator places by. Kept to a few fields (its parent GPU's entry has the name,
     * the bus id and the reasons), so that a node of 64 GPUs with 7 MIG devices each still heartbeats within the
     * coordinator's 512 KiB.
     *
     * @param gpu           NVML index of the parent GPU
     * @param address       {@code <gpu>/<gi>} ({@code <gpu>/<gi>/<ci>} for a compute instance other than 0)
     * @param profile       its GPU instance's profile, e.g. {@code 1g.10gb}
     * @param memoryMiB     memory of its GPU instance
     * @param memoryFreeMiB null when not read
     * @param health        HealthState name: its own verdict where the health model judges MIG devices, else its
     *                      parent's (a parent that is not serving always gives its own)
     * @param cordoned      it or its parent GPU is cordoned
     * @param leaseId       the lease holding it, null when free (its job: {@code GET /v1/leases/{leaseId}}; a job id
     *                      of up to 128 characters on each of 448 devices would not fit in the heartbeat)
     * @param leasable      a lease may take it now (the parent GPU fresh, serving, not cordoned; it healthy, free)
     */
    public record Mig(String uuid, int gpu, String address, String profile, long memoryMiB, Long memoryFreeMiB,
                      String health, boolean cordoned, String leaseId, boolean leasable) {
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
