package io.gpuagent.agent.lease;

import io.gpuagent.agent.health.GpuHealth;
import io.gpuagent.agent.health.Reason;
import io.gpuagent.agent.health.detect.HealthState;
import io.gpuagent.exporter.GpuSample;
import io.gpuagent.exporter.GpuStatus;
import io.gpuagent.exporter.Reading;
import io.gpuagent.exporter.Snapshot;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * One GPU as placement sees it right now: identity, health, cordon, memory, lease, and why it cannot be
 * leased ({@code unavailable}, null when it can). The lease book decides with it and the inventory shows it,
 * so both always agree.
 *
 * @param unavailable "GPU 3 is UNHEALTHY (xid 79: ...)"-style sentence, null when leasable
 */
record GpuStanding(int index, String uuid, String name, String pciBusId, HealthState health, List<String> reasons,
                   boolean cordoned, Long memoryTotalMiB, Long memoryFreeMiB, GpuLeases.Held lease, String unavailable) {

    boolean leasable() {
        return unavailable == null;
    }

    Inventory.Gpu toInventory() {
        return new Inventory.Gpu(index, uuid, name, pciBusId, health.name(), reasons, cordoned, memoryTotalMiB,
                memoryFreeMiB, lease, leasable());
    }

    /**
     * Every GPU of the snapshot, in index order. {@code staleAfter}: a snapshot older than this makes every
     * GPU unavailable (the sampler is stuck, so nothing is known about them).
     */
    static List<GpuStanding> of(Snapshot snapshot, List<GpuHealth> health, Cordons cordons,
                                Map<String, GpuLeases.Held> leases, Instant now, Duration staleAfter) {
        Duration age = Duration.between(snapshot.takenAt(), now);
        String stuck = age.compareTo(staleAfter) > 0
                ? "has no fresh readings (the newest snapshot is " + age.toMillis() + " ms old)" : null;
        List<GpuStanding> out = new ArrayList<>(snapshot.gpus().size());
        for (GpuSample s : snapshot.gpus()) {
            if (!s.info().known()) {
                continue;   // identity not read yet: no UUID to lease it by
            }
            GpuHealth h = health.stream().filter(g -> g.uuid().equals(s.uuid())).findFirst().orElse(null);
            HealthState state = h == null ? HealthState.INITIALIZING : h.state();
            List<String> reasons = h == null ? List.of()
                    : h.reasons().stream().map(r -> r.detector() + " " + r.code() + ": " + r.message()).toList();
            boolean cordoned = cordons.isCordoned(s.uuid());
            GpuLeases.Held lease = leases.get(s.uuid());
            String why = null;
            if (s.status() == GpuStatus.LOST) {
                why = "is lost" + (s.statusReason() == null ? "" : " (" + s.statusReason() + ")");
            } else if (!state.serving()) {
                why = "is " + state + (h == null || h.reasons().isEmpty() ? "" : " (" + brief(h.reasons().getFirst()) + ")");
            } else if (cordoned) {
                why = "is cordoned" + cordons.of(s.uuid()).map(c -> " (" + c.reason() + ")").orElse("");
            } else if (lease != null) {
                why = "is leased to job " + lease.jobId() + " (lease " + lease.leaseId() + ")";
            } else if (s.status() == GpuStatus.STALE) {
                why = "has stale readings (" + s.statusReason() + ")";
            } else if (stuck != null) {
                why = stuck;
            }
            out.add(new GpuStanding(s.index(), s.uuid(), s.info().name(), s.info().pciBusId(), state, reasons,
                    cordoned, mib(s.value(Reading.FB_TOTAL_MIB)), mib(s.value(Reading.FB_FREE_MIB)), lease,
                    why == null ? null : "GPU " + s.index() + " " + why));
        }
        return out;
    }

    private static String brief(Reason r) {
        return r.detector() + " " + r.code();
    }

    private static Long mib(OptionalDouble v) {
        return v.isPresent() ? (long) v.getAsDouble() : null;
    }
}
