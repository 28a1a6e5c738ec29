package io.gpuagent.agent.health;

import io.gpuagent.agent.health.detect.Finding;
import io.gpuagent.agent.health.detect.HealthState;
import io.gpuagent.agent.health.detect.RepairAction;
import io.gpuagent.exporter.MigInstance;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One GPU's (or one MIG device's) reasons and the state they make, with the hysteresis rule: a finding raises
 * (or refreshes) its reason at once; a reason that is not sticky is dropped once no detector has reported it
 * for the window. A MIG device's tracker also holds its GPU's latest reasons ({@link #inherit}), and its state is
 * the worse of both. Used only under the engine's lock.
 */
final class GpuTracker {

    private static final Comparator<Reason> WORST_FIRST = Comparator.comparing(Reason::state).reversed()
            .thenComparing(Reason::firstSeen);

    int index;
    String uuid;
    String name;
    HealthState state = HealthState.INITIALIZING;
    Instant since;
    private final Map<String, Reason> reasons = new LinkedHashMap<>();
    private Set<String> present = Set.of();   // keys the latest sample evaluation reported
    /** The MIG device this tracks, null for a whole GPU. */
    MigInstance mig;
    private HealthState parentState = HealthState.HEALTHY;
    private List<Reason> inherited = List.of();

    GpuTracker(int index, String uuid, String name, Instant now) {
        identify(index, uuid, name);
        this.since = now;
    }

    /** A MIG device's tracker (the engine keys it by its MIG UUID, under its GPU's). */
    static GpuTracker forMig(MigInstance mig, Instant now) {
        GpuTracker t = new GpuTracker(mig.gpuIndex(), mig.uuid(), mig.profile(), now);
        t.mig = mig;
        return t;
    }

    /** The MIG device as the latest sample names it (its GPU's index can change when another GPU goes). */
    void identify(MigInstance now) {
        this.mig = now;
        identify(now.gpuIndex(), now.uuid(), now.profile());
    }

    /**
     * A MIG device takes its GPU's settled state and reasons; returns the GPU's reasons that went since the
     * last call (worst first), so that a change can name what cleared.
     */
    List<Reason> inherit(GpuTracker parent) {
        List<Reason> next = parent.sorted();
        Set<String> keys = new HashSet<>();
        next.forEach(r -> keys.add(key(r)));
        List<Reason> gone = new ArrayList<>(0);
        for (Reason r : inherited) {
            if (!keys.contains(key(r))) {
                gone.add(r);
            }
        }
        inherited = next;
        parentState = parent.state;
        return gone;
    }

    /** Its GPU's reasons as of the last {@link #inherit} (empty for a whole GPU). */
    List<Reason> inherited() {
        return inherited;
    }

    private static String key(Reason r) {
        return r.detector() + '/' + r.code();
    }

    void identify(int newIndex, String newUuid, String newName) {
        this.index = newIndex;
        this.uuid = newUuid;
        if (newName != null && !newName.isEmpty()) {
            this.name = newName;
        } else if (this.name == null) {
            this.name = "";
        }
    }

    /** A sample's findings: what is present now. A finding that was absent at the previous sample is a new onset. */
    void observe(List<Finding> findings, Instant now) {
        Set<String> nowPresent = new HashSet<>();
        for (Finding f : findings) {
            upsert(f, now, !present.contains(f.key()));
            nowPresent.add(f.key());
        }
        present = nowPresent;
    }

    /** An event's findings: each is an occurrence (two identical XIDs count twice). */
    void record(List<Finding> findings, Instant now) {
        for (Finding f : findings) {
            upsert(f, now, true);
        }
    }

    private void upsert(Finding f, Instant now, boolean onset) {
        Reason old = reasons.get(f.key());
        reasons.put(f.key(), new Reason(f.detector(), f.code(), f.state(), f.message(), f.action(), f.actions(),
                f.sticky() || (old != null && old.sticky()), old == null ? now : old.firstSeen(), now,
                old == null ? 1 : old.count() + (onset ? 1 : 0)));
    }

    /** Drops the reasons that are not sticky and have been absent for {@code hysteresis}; returns them. */
    List<Reason> expire(Instant now, Duration hysteresis) {
        return remove(r -> !r.sticky() && Duration.between(r.lastSeen(), now).compareTo(hysteresis) >= 0);
    }

    /** Operator clear: drops every reason, sticky or not, that the latest sample did not report; returns them. */
    List<Reason> clear() {
        return remove(r -> true);
    }

    private List<Reason> remove(java.util.function.Predicate<Reason> drop) {
        List<Reason> gone = new ArrayList<>(0);
        for (Iterator<Map.Entry<String, Reason>> it = reasons.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, Reason> e = it.next();
            if (!present.contains(e.getKey()) && drop.test(e.getValue())) {
                gone.add(e.getValue());
                it.remove();
            }
        }
        gone.sort(WORST_FIRST);
        return gone;
    }

    /** The worst state among the reasons (a MIG device's and its GPU's); HEALTHY without any. */
    HealthState judged() {
        HealthState worst = HealthState.HEALTHY;
        for (Reason r : reasons.values()) {
            worst = worst.worst(r.state());
        }
        return mig == null ? worst : worst.worst(parentState == HealthState.INITIALIZING ? HealthState.HEALTHY : parentState);
    }

    /** Its own reasons, worst first. */
    List<Reason> sorted() {
        List<Reason> sorted = new ArrayList<>(reasons.values());
        sorted.sort(WORST_FIRST);
        return sorted;
    }

    /** Every reason behind the state, its own and (a MIG device's) its GPU's, worst first. */
    List<Reason> all() {
        List<Reason> all = sorted();
        all.addAll(inherited);
        all.sort(WORST_FIRST);
        return all;
    }

    /** A whole GPU's health, with its MIG devices' ({@code migDevices}, in order). */
    GpuHealth health(List<MigHealth> migDevices) {
        List<Reason> sorted = sorted();
        return new GpuHealth(index, uuid, name, state, since, sorted, actions(sorted), migDevices);
    }

    /** A MIG device's health. */
    MigHealth migHealth() {
        List<Reason> sorted = sorted();
        return new MigHealth(mig.uuid(), mig.address(), mig.gpuIndex(), mig.parentUuid(), mig.gpuInstanceId(),
                mig.computeInstanceId(), mig.profile(), state, since, sorted, inherited, actions(all()));
    }

    private static List<RepairAction> actions(List<Reason> reasons) {
        return reasons.stream().flatMap(r -> r.actions().stream()).distinct().sorted().toList();
    }
}
