package io.gpuagent.agent.lease;

import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Who holds what, as placement needs it: the lease on each device (a whole GPU or a MIG device, by its UUID),
 * and for each GPU a lease on one of its MIG devices (by the parent UUID the lease recorded). The second is what
 * keeps a GPU whose MIG mode was turned off under a MIG lease from being leased whole, and a GPU leased whole
 * when MIG mode was turned on from having its new MIG devices leased.
 */
record Holders(Map<String, GpuLeases.Held> byDevice, Map<String, GpuLeases.Held> byParent) {

    static final Holders NONE = new Holders(Map.of(), Map.of());

    Holders {
        byDevice = Map.copyOf(byDevice);
        byParent = Map.copyOf(byParent);
    }

    /** The holders among {@code leases} that have not expired at {@code now}; the first lease wins a parent. */
    static Holders of(List<Lease> leases, Instant now) {
        Map<String, GpuLeases.Held> byDevice = new HashMap<>();
        Map<String, GpuLeases.Held> byParent = new HashMap<>();
        for (Lease l : leases) {
            if (l.expiredAt(now)) {
                continue;
            }
            l.gpus().forEach(u -> byDevice.put(u, l.held()));
            l.mig().forEach(m -> byParent.putIfAbsent(m.parentUuid(), l.held()));
        }
        return new Holders(byDevice, byParent);
    }
}
