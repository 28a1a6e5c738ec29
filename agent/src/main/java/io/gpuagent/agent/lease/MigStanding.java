package io.gpuagent.agent.lease;

import io.gpuagent.agent.health.detect.HealthState;
import io.gpuagent.exporter.MigInstance;

/**
 * One MIG device as placement sees it right now, like {@link GpuStanding} for a whole GPU: its identity, its
 * health, whether it or its parent GPU is cordoned, its memory, its lease, and why it cannot be leased
 * ({@code unavailable}, null when it can). Built by {@link Standings#of}.
 *
 * @param health      its own verdict where the health model judges MIG devices, else its parent's
 * @param cordoned    it or its parent GPU is cordoned (a cordon of the GPU covers its MIG devices)
 * @param unavailable "MIG device 0/3 (1g.10gb): GPU 0 is UNHEALTHY (...)"-style sentence, null when leasable
 */
record MigStanding(MigInstance device, HealthState health, boolean cordoned, Long memoryFreeMiB, GpuLeases.Held lease,
                   String unavailable) {

    boolean leasable() {
        return unavailable == null;
    }

    String uuid() {
        return device.uuid();
    }

    /** "MIG device 0/3 (1g.10gb)": how messages name it. */
    String label() {
        return label(device);
    }

    static String label(MigInstance d) {
        return "MIG device " + d.address() + " (" + d.profile() + ")";
    }

    Inventory.Mig toInventory() {
        return new Inventory.Mig(device.uuid(), device.gpuIndex(), device.address(), device.profile(),
                device.memoryMib(), memoryFreeMiB, health.name(), cordoned, lease == null ? null : lease.leaseId(),
                leasable());
    }
}
