package io.gpuagent.agent.recovery;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The escalation of docs/faults.md#escalation, learned from gpud: the same fault on the same GPU after {@code resetsBeforeReboot}
 * resets asks for a reboot instead of another reset; after {@code rebootsBeforeInspection} reboot requests,
 * only hardware inspection (the GPU stays cordoned, nothing more is tried). Counted per GPU and reason code
 * from policy-triggered audit lines, rebuilt from the audit log at start so that restarts do not forget.
 */
final class Escalation {

    private final int resetsBeforeReboot;
    private final int rebootsBeforeInspection;
    private final Map<String, int[]> counts = new HashMap<>();   // uuid + code -> {resets, reboot requests}; guarded by this

    Escalation(int resetsBeforeReboot, int rebootsBeforeInspection) {
        if (resetsBeforeReboot < 1 || rebootsBeforeInspection < 1) {
            throw new IllegalArgumentException("gpu-agent.recovery.resets-before-reboot and reboots-before-inspection "
                    + "must be at least 1, got " + resetsBeforeReboot + " and " + rebootsBeforeInspection);
        }
        this.resetsBeforeReboot = resetsBeforeReboot;
        this.rebootsBeforeInspection = rebootsBeforeInspection;
    }

    /** Counts a finished reset or a reboot request that a policy plan ran. */
    synchronized void record(ActionRecord r) {
        if (!(r.trigger() instanceof Trigger.Policy policy) || r.uuid() == null) {
            return;
        }
        boolean reset = r.step() == Step.RESET && (r.result() == Result.SUCCEEDED
                || r.result() == Result.FAILED || r.result() == Result.TIMED_OUT);
        boolean reboot = r.step() == Step.REQUEST_REBOOT && r.result() == Result.SUCCEEDED;
        if (reset || reboot) {
            counts.computeIfAbsent(r.uuid() + '/' + policy.code(), k -> new int[2])[reset ? 0 : 1]++;
        }
    }

    /** The plan's steps after escalation, and why they changed (null when they did not). */
    record Adjusted(List<Step> steps, String why) {
    }

    synchronized Adjusted adjust(String uuid, String code, List<Step> steps) {
        int[] c = counts.getOrDefault(uuid + '/' + code, new int[2]);
        if (c[1] >= rebootsBeforeInspection) {
            return new Adjusted(List.of(Step.CORDON, Step.INSPECT_HARDWARE), c[1] + " reboot request(s) for " + code
                    + " on this GPU did not help: hardware inspection, no further automatic action");
        }
        if (c[0] >= resetsBeforeReboot && steps.contains(Step.RESET)) {
            List<Step> out = new ArrayList<>();
            for (Step s : steps) {
                Step t = s == Step.RESET ? Step.REQUEST_REBOOT : s;
                if (!out.contains(t)) {
                    out.add(t);
                }
            }
            return new Adjusted(List.copyOf(out), c[0] + " reset(s) for " + code
                    + " on this GPU did not help: a reboot is requested instead");
        }
        return new Adjusted(steps, null);
    }
}
