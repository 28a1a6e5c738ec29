package io.gpuagent.agent.health;

import io.gpuagent.agent.health.detect.Finding;
import io.gpuagent.agent.health.detect.HealthState;
import io.gpuagent.agent.health.detect.RepairAction;
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
 * One GPU's reasons and the state they make, with the hysteresis rule: a finding raises (or refreshes) its
 * reason at once; a reason that is not sticky is dropped once no detector has reported it for the window.
 * Used only under the engine's lock.
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

    GpuTracker(int index, String uuid, String name, Instant now) {
        identify(index, uuid, name);
        this.since = now;
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

    /** The worst state among the reasons; HEALTHY without any. */
    HealthState judged() {
        HealthState worst = HealthState.HEALTHY;
        for (Reason r : reasons.values()) {
            worst = worst.worst(r.state());
        }
        return worst;
    }

    GpuHealth health() {
        List<Reason> sorted = new ArrayList<>(reasons.values());
        sorted.sort(WORST_FIRST);
        List<RepairAction> actions = sorted.stream().flatMap(r -> r.actions().stream()).distinct().sorted().toList();
        return new GpuHealth(index, uuid, name, state, since, sorted, actions);
    }
}
