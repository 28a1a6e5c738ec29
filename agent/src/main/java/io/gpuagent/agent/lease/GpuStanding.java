package io.gpuagent.agent.lease;

import io.gpuagent.agent.health.detect.HealthState;
import java.util.List;

/**
 * One GPU as placement sees it right now: identity, health, cordon, memory, lease, MIG mode, and why it cannot
 * be leased whole ({@code unavailable}, null when it can). The lease book decides with it and the inventory shows
 * it, so both always agree. Built by {@link Standings#of}.
 *
 * @param migMode     in MIG mode (even with no MIG devices yet): never leased whole, its MIG devices are
 * @param unavailable "GPU 3 is UNHEALTHY (xid 79: ...)"-style sentence, null when leasable
 */
record GpuStanding(int index, String uuid, String name, String pciBusId, HealthState health, List<String> reasons,
                   boolean cordoned, Long memoryTotalMiB, Long memoryFreeMiB, GpuLeases.Held lease, boolean migMode,
                   String unavailable) {

    boolean leasable() {
        return unavailable == null;
    }

    Inventory.Gpu toInventory() {
        return new Inventory.Gpu(index, uuid, name, pciBusId, health.name(), reasons, cordoned, memoryTotalMiB,
                memoryFreeMiB, lease, leasable(), migMode);
    }
}
