package io.gpuagent.agent.recovery;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The audit lines the rails are rebuilt from at start ({@link ActionLog#replayed}, {@link StepRunner#restore}),
 * reduced to what still changes their state, so that compaction may drop every other line and replay holds
 * only these: per GPU the first cordoning line since its last uncordon, its inspection line, its last power cap
 * since the last restore; every line escalation counts (bounded: escalation ends in inspection, which runs
 * nothing more); reset starts within the rate limit's window. Not thread-safe: {@link ActionAudit} guards it.
 */
final class ActionRetention {

    private final Duration resetWindow;
    private final Map<String, ActionRecord> cordoned = new HashMap<>();
    private final Map<String, ActionRecord> inspected = new HashMap<>();
    private final Map<String, ActionRecord> powerCapped = new HashMap<>();
    private final List<ActionRecord> escalation = new ArrayList<>();
    private final ArrayDeque<ActionRecord> resetStarts = new ArrayDeque<>();

    ActionRetention(Duration resetWindow) {
        this.resetWindow = resetWindow;
    }

    /** Takes a line in file order; mirrors what StepRunner.restore, Escalation.record and ActionLog.count read. */
    void offer(ActionRecord r) {
        if (r.uuid() == null) {
            return;
        }
        Step s = r.step();
        boolean ok = r.result() == Result.SUCCEEDED;
        if ((s == Step.DRAIN && r.result() == Result.STARTED) || ((s == Step.CORDON || s == Step.INSPECT_HARDWARE) && ok)) {
            cordoned.putIfAbsent(r.uuid(), r);   // a second cordon keeps the first one's reason
        }
        if (s == Step.INSPECT_HARDWARE && ok) {
            inspected.putIfAbsent(r.uuid(), r);
        }
        if (s == Step.UNCORDON && ok) {
            cordoned.remove(r.uuid());
            inspected.remove(r.uuid());
        }
        if (s == Step.POWER_CAP && ok) {
            powerCapped.put(r.uuid(), r);
        }
        if (s == Step.POWER_RESTORE && ok) {
            powerCapped.remove(r.uuid());
        }
        if (r.trigger() instanceof Trigger.Policy && ((s == Step.RESET && (ok || r.result() == Result.FAILED
                || r.result() == Result.TIMED_OUT)) || (s == Step.REQUEST_REBOOT && ok))) {
            escalation.add(r);
        }
        if (s == Step.RESET && r.result() == Result.STARTED) {
            resetStarts.addLast(r);
        }
    }

    /** The lines to keep, oldest first; reset starts that left the window by {@code now} are dropped. */
    List<ActionRecord> lines(Instant now) {
        while (!resetStarts.isEmpty() && !resetStarts.peekFirst().time().plus(resetWindow).isAfter(now)) {
            resetStarts.removeFirst();
        }
        List<ActionRecord> out = new ArrayList<>(cordoned.values());
        inspected.values().stream().filter(r -> !out.contains(r)).forEach(out::add);
        out.addAll(powerCapped.values());
        out.addAll(escalation);
        out.addAll(resetStarts);
        return out.stream().distinct().sorted(Comparator.comparingLong(ActionRecord::id)).toList();
    }
}
