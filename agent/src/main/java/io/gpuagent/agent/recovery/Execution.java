package io.gpuagent.agent.recovery;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** One action in flight: what was asked, on which GPU, by whom, and the steps it runs. */
final class Execution {
    final String actionId = UUID.randomUUID().toString();
    final ActionKind action;
    final Target target;
    final Trigger trigger;
    final String reason;
    final List<Step> steps;
    final boolean force;
    volatile boolean cordonedHere;
    volatile Instant resetEndedAt;
    /** Whether driver events were registered before the reset: verify then waits for them to be again. */
    volatile boolean watchedEventsBeforeReset;

    Execution(ActionKind action, Target target, Trigger trigger, String reason, List<Step> steps, boolean force) {
        this.action = action;
        this.target = target;
        this.trigger = trigger;
        this.reason = reason;
        this.steps = withVerify(steps);
        this.force = force;
    }

    boolean byPolicy() {
        return trigger instanceof Trigger.Policy;
    }

    /** The audit line of step {@code s} of this action. */
    ActionRecord line(Step s, Result r, Long durationMs, String detail) {
        return line(s, new StepOutcome(r, detail), durationMs);
    }

    /** The audit line of step {@code s} that ended with {@code o}. */
    ActionRecord line(Step s, StepOutcome o, Long durationMs) {
        return new ActionRecord(0, null, actionId, action, s, target == null ? null : target.index(),
                target == null ? null : target.uuid(), trigger, reason, o.result(), durationMs, o.detail(), o.powerCap());
    }

    private static List<Step> withVerify(List<Step> steps) {
        List<Step> out = new ArrayList<>();
        for (Step s : steps) {
            out.add(s);
            if (s == Step.RESET) {
                out.add(Step.VERIFY);
            }
        }
        return List.copyOf(out);
    }
}
