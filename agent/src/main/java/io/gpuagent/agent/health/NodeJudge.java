package io.gpuagent.agent.health;

import io.gpuagent.agent.health.detect.Detector;
import io.gpuagent.agent.health.detect.HealthState;
import io.gpuagent.agent.health.detect.NodeCheck;
import io.gpuagent.agent.health.detect.NodeFinding;
import io.gpuagent.agent.health.detect.NodeSample;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.jboss.logging.Logger;

/**
 * The node's verdict from the node-level detectors ({@link Detector#evaluateNode}), with a GPU's hysteresis and
 * clear rules: a finding raises (or refreshes) its reason at once, a reason that is not sticky goes once absent
 * for the hysteresis window, an operator clear drops every reason not observed right now. Reasons are keyed by
 * subject, detector and code ({@link NodeFinding#key()}). No CDI, no I/O; one call at a time.
 */
public final class NodeJudge {

    private static final Logger LOG = Logger.getLogger(NodeJudge.class);
    private static final Comparator<NodeReason> WORST_FIRST = Comparator.comparing(NodeReason::state).reversed()
            .thenComparing(NodeReason::firstSeen);

    /** The node's state changed: the cause is the worst reason when it got worse, the one that went when better. */
    public record Change(NodeHealth node, HealthState previous, String detector, String code, String message) {
        public boolean worse() {
            return node.state().ordinal() > previous.ordinal();
        }
    }

    private List<Detector> detectors;   // guarded by this; a configuration reload replaces them
    private Duration hysteresis;        // guarded by this
    private final Map<String, NodeReason> reasons = new LinkedHashMap<>();
    private Set<String> present = Set.of();
    private HealthState state = HealthState.INITIALIZING;
    private Instant since;
    private Instant checkedAt;
    private volatile NodeHealth health;

    public NodeJudge(List<Detector> detectors, Duration hysteresis, Instant now) {
        this.detectors = List.copyOf(detectors);
        this.hysteresis = hysteresis;
        this.since = now;
        this.health = NodeHealth.initializing(now);
    }

    /** The node detectors configured from {@code gpu-agent.health.*} (docs/node-health.md). */
    public static List<Detector> detectors(HealthConfig c) {
        HealthConfig.Ib ib = c.ib();
        return List.of(
                new io.gpuagent.agent.health.detect.HostDetector(c.node().holderLimit(),
                        c.node().stateDirMinFreeMib() * 1024 * 1024),
                new io.gpuagent.agent.health.detect.InfinibandDetector(ib.expectedPorts(), ib.expectedRateGbps(),
                        ib.flapWindow(), ib.flapLimit(), c.rateWindow(), Map.of("symbol_error", ib.symbolErrorsPerMinute(),
                        "port_rcv_errors", ib.rcvErrorsPerMinute(), "link_error_recovery", ib.linkRecoveriesPerMinute())),
                new io.gpuagent.agent.health.detect.FabricDetector());
    }

    /** Takes the detectors and hysteresis of a configuration reload, from the next sweep on; reasons stay. */
    public synchronized void reconfigure(List<Detector> detectors, Duration hysteresis) {
        this.detectors = List.copyOf(detectors);
        this.hysteresis = hysteresis;
    }

    /** The node's verdict as of the last sweep; never blocks. */
    public NodeHealth health() {
        return health;
    }

    /** One node sweep: every detector's node findings, then hysteresis. */
    public synchronized Optional<Change> onSample(NodeSample sample, Instant now) {
        List<NodeFinding> findings = new ArrayList<>();
        for (Detector d : detectors) {
            try {
                findings.addAll(d.evaluateNode(sample, now));
            } catch (RuntimeException e) {
                LOG.errorf(e, "node detector %s failed; the other node checks are judged as usual", d.name());
            }
        }
        Set<String> nowPresent = new HashSet<>();
        for (NodeFinding f : findings) {
            NodeReason old = reasons.get(f.key());
            boolean onset = !present.contains(f.key());
            var x = f.finding();
            reasons.put(f.key(), new NodeReason(f.check().label(), f.subject().key(), x.detector(), x.code(), x.state(),
                    x.message(), x.action(), x.actions(), x.sticky() || (old != null && old.sticky()),
                    old == null ? now : old.firstSeen(), now, old == null ? 1 : old.count() + (onset ? 1 : 0)));
            nowPresent.add(f.key());
        }
        present = nowPresent;
        checkedAt = sample.host().takenAt();
        List<NodeReason> gone = remove(r -> !r.sticky() && Duration.between(r.lastSeen(), now).compareTo(hysteresis) >= 0);
        return settle(gone, now, null, null);
    }

    /** Operator clear: drops every reason, sticky or not, that the latest sweep did not report. */
    public synchronized Change clear(String who, String message, Instant now) {
        List<NodeReason> gone = remove(r -> true);
        HealthState before = state;
        String said = message + "; " + (gone.isEmpty() ? "nothing to remove"
                : "removed " + String.join(", ", gone.stream().map(NodeReason::code).toList()));
        return settle(gone, now, who, said).orElseGet(() -> new Change(health, before, who, "CLEARED", said));
    }

    private List<NodeReason> remove(java.util.function.Predicate<NodeReason> drop) {
        List<NodeReason> gone = new ArrayList<>(0);
        for (Iterator<Map.Entry<String, NodeReason>> it = reasons.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, NodeReason> e = it.next();
            if (!present.contains(e.getKey()) && drop.test(e.getValue())) {
                gone.add(e.getValue());
                it.remove();
            }
        }
        gone.sort(WORST_FIRST);
        return gone;
    }

    private Optional<Change> settle(List<NodeReason> gone, Instant now, String clearedBy, String clearMessage) {
        List<NodeReason> sorted = new ArrayList<>(reasons.values());
        sorted.sort(WORST_FIRST);
        HealthState after = HealthState.HEALTHY;
        for (NodeReason r : sorted) {
            after = after.worst(r.state());
        }
        HealthState before = state;
        if (after != before) {
            state = after;
            since = now;
        }
        health = new NodeHealth(state, since, checkedAt, checks(sorted), sorted);
        if (after == before) {
            return Optional.empty();
        }
        if (clearedBy != null) {
            return Optional.of(new Change(health, before, clearedBy, "CLEARED", clearMessage));
        }
        if (after.ordinal() > before.ordinal() && !sorted.isEmpty()) {
            NodeReason worst = sorted.getFirst();
            return Optional.of(new Change(health, before, worst.detector(), worst.code(), "node " + before + " -> " + after
                    + ": [" + worst.check() + " " + worst.subject() + "] " + worst.message() + "; " + worst.action()));
        }
        NodeReason went = gone.isEmpty() ? null : gone.getFirst();
        return Optional.of(new Change(health, before, went == null ? "node" : went.detector(),
                went == null ? "HEALTHY" : went.code(), "node " + before + " -> " + after
                + (went == null ? "" : ": " + went.code() + " on " + went.subject() + " cleared")));
    }

    private static List<NodeHealth.Check> checks(List<NodeReason> worstFirst) {
        List<NodeHealth.Check> out = new ArrayList<>();
        for (NodeCheck c : NodeCheck.values()) {
            NodeReason worst = null;
            for (NodeReason r : worstFirst) {
                if (r.check().equals(c.label())) {
                    worst = r;
                    break;
                }
            }
            out.add(new NodeHealth.Check(c.label(), worst == null ? HealthState.HEALTHY : worst.state(),
                    worst == null ? null : worst.message()));
        }
        return out;
    }
}
