package io.gpuagent.agent.lease;

import io.gpuagent.agent.health.GpuHealth;
import io.gpuagent.agent.health.MigHealth;
import io.gpuagent.agent.health.Reason;
import io.gpuagent.agent.health.detect.HealthState;
import io.gpuagent.exporter.GpuSample;
import io.gpuagent.exporter.GpuStatus;
import io.gpuagent.exporter.MigInstance;
import io.gpuagent.exporter.MigSample;
import io.gpuagent.exporter.Reading;
import io.gpuagent.exporter.Snapshot;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * The node's devices as placement sees them now: every GPU ({@link GpuStanding}), every MIG device of the GPUs
 * in MIG mode ({@link MigStanding}), and the topology. A pure function of the latest snapshot, the health
 * verdicts, the cordons and the holders, so the lease book's decision, the inventory and the tests all see the
 * same standings.
 *
 * <p>The rules (docs/placement.md#which-gpus-can-be-leased, #mig-leases): a GPU in MIG mode is never leased
 * whole, even with no MIG devices; its MIG devices are leasable when they are in the snapshot, fresh, healthy,
 * not cordoned and not leased, and a GPU that is lost, not serving or cordoned makes all its MIG devices
 * unavailable with it.
 */
record Standings(Snapshot snapshot, List<GpuStanding> gpus, List<MigStanding> mig, NodeTopology topology) {

    Standings {
        gpus = List.copyOf(gpus);
        mig = List.copyOf(mig);
    }

    /**
     * The standings of every GPU and MIG device of the snapshot, in index (then GPU instance, compute instance)
     * order. {@code staleAfter}: a snapshot older than this makes every device unavailable (the sampler is stuck,
     * so nothing is known about them).
     */
    static Standings of(Snapshot snapshot, List<GpuHealth> judged, Cordons cordons, Holders holders, Instant now,
                        Duration staleAfter) {
        Verdicts verdicts = new Verdicts(judged);
        Duration age = Duration.between(snapshot.takenAt(), now);
        String stuck = age.compareTo(staleAfter) > 0
                ? "has no fresh readings (the newest snapshot is " + age.toMillis() + " ms old)" : null;
        List<GpuStanding> gpus = new ArrayList<>(snapshot.gpus().size());
        List<MigStanding> migs = new ArrayList<>();
        for (GpuSample s : snapshot.gpus()) {
            if (!s.info().known()) {
                continue;   // identity not read yet: no UUID to lease it by
            }
            GpuHealth h = verdicts.gpu(s.uuid());
            HealthState state = h == null ? HealthState.INITIALIZING : h.state();
            List<String> reasons = h == null ? List.of()
                    : h.reasons().stream().map(r -> r.detector() + " " + r.code() + ": " + r.message()).toList();
            boolean cordoned = cordons.isCordoned(s.uuid());
            GpuLeases.Held lease = holders.byDevice().get(s.uuid());
            GpuLeases.Held migLease = holders.byParent().get(s.uuid());
            boolean migMode = s.migEnabled() || !s.migDevices().isEmpty();
            // What makes the GPU and every MIG device on it unavailable alike.
            String blocked = blocked(s, h, state, cordons);
            String outdated = s.status() == GpuStatus.STALE ? "has stale readings (" + s.statusReason() + ")" : stuck;
            String why;
            if (migMode) {
                why = "is in MIG mode (" + s.migDevices().size() + " MIG device(s)): it is never leased whole, lease "
                        + "its MIG devices (\"mig\": {\"profile\": ..., \"count\": ...})";
            } else if (blocked != null) {
                why = blocked;
            } else if (migLease != null) {
                why = "has MIG devices leased to job " + migLease.jobId() + " (lease " + migLease.leaseId()
                        + ") from before its MIG mode was turned off";
            } else if (lease != null) {
                why = "is leased to job " + lease.jobId() + " (lease " + lease.leaseId() + ")";
            } else {
                why = outdated;
            }
            gpus.add(new GpuStanding(s.index(), s.uuid(), s.info().name(), s.info().pciBusId(), state, reasons,
                    cordoned, mib(s.value(Reading.FB_TOTAL_MIB)), mib(s.value(Reading.FB_FREE_MIB)), lease, migMode,
                    why == null ? null : "GPU " + s.index() + " " + why));
            for (MigSample m : s.migDevices()) {
                migs.add(mig(s, m, state, blocked, lease, outdated, verdicts, cordons, holders));
            }
        }
        return new Standings(snapshot, gpus, migs, NodeTopology.of(snapshot, gpus));
    }

    private static MigStanding mig(GpuSample parent, MigSample m, HealthState parentState, String parentBlocked,
                                   GpuLeases.Held parentLease, String outdated, Verdicts verdicts, Cordons cordons,
                                   Holders holders) {
        MigInstance d = m.info();
        MigHealth own = verdicts.mig(d);
        HealthState state = !parentState.serving() || own == null ? parentState : own.state();
        boolean ownCordon = cordons.isCordoned(d.uuid());
        GpuLeases.Held lease = holders.byDevice().get(d.uuid());
        String gpu = "GPU " + parent.index() + " ";
        String why;
        if (parentBlocked != null) {
            why = ": " + gpu + parentBlocked;
        } else if (own != null && !own.state().serving()) {
            why = " is " + own.state() + (own.reasons().isEmpty() ? "" : " (" + brief(own.reasons().getFirst()) + ")");
        } else if (ownCordon) {
            why = " is cordoned" + cordons.of(d.uuid()).map(c -> " (" + c.reason() + ")").orElse("");
        } else if (parentLease != null) {
            why = ": " + gpu + "is leased whole to job " + parentLease.jobId() + " (lease " + parentLease.leaseId()
                    + ") from before its MIG mode was turned on";
        } else if (lease != null) {
            why = " is leased to job " + lease.jobId() + " (lease " + lease.leaseId() + ")";
        } else {
            why = outdated == null ? null : ": " + gpu + outdated;
        }
        return new MigStanding(d, state, ownCordon || cordons.isCordoned(parent.uuid()), mib(m.value(Reading.FB_FREE_MIB)),
                lease, why == null ? null : MigStanding.label(d) + why);
    }

    /** Lost, not serving or cordoned: what a GPU's MIG devices share with it. Null when none. */
    private static String blocked(GpuSample s, GpuHealth h, HealthState state, Cordons cordons) {
        if (s.status() == GpuStatus.LOST) {
            return "is lost" + (s.statusReason() == null ? "" : " (" + s.statusReason() + ")");
        }
        if (!state.serving()) {
            return "is " + state + (h == null || h.reasons().isEmpty() ? "" : " (" + brief(h.reasons().getFirst()) + ")");
        }
        if (cordons.isCordoned(s.uuid())) {
            return "is cordoned" + cordons.of(s.uuid()).map(c -> " (" + c.reason() + ")").orElse("");
        }
        return null;
    }

    private static String brief(Reason r) {
        return r.detector() + " " + r.code();
    }

    private static Long mib(OptionalDouble v) {
        return v.isPresent() ? (long) v.getAsDouble() : null;
    }

    /**
     * THE one place placement reads health verdicts. Today the health model judges whole GPUs, so a MIG device has
     * no verdict of its own and stands as its parent does ({@link #mig} answers null). Once the model judges MIG
     * devices by their {@code MIG-} UUID, {@link #mig} answers the device's own verdict; the parent's still covers
     * its MIG devices (a GPU-wide fault takes every instance out, an instance's fault only that instance).
     */
    static final class Verdicts {
        private final Map<String, GpuHealth> byUuid = new HashMap<>();

        Verdicts(List<GpuHealth> judged) {
            judged.forEach(g -> byUuid.put(g.uuid(), g));
        }

        /** The GPU's verdict, null before its first one. */
        GpuHealth gpu(String uuid) {
            return byUuid.get(uuid);
        }

        /** The MIG device's verdict (its own reasons and its GPU's), or null before its first: then its GPU's stands for it. */
        MigHealth mig(MigInstance device) {
            GpuHealth parent = byUuid.get(device.parentUuid());
            return parent == null ? null : parent.migDevice(device.uuid());
        }
    }
}
