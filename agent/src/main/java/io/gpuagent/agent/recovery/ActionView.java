package io.gpuagent.agent.recovery;

import java.util.List;

/**
 * One action as the API shows it: its lines from the audit log and a status derived from them:
 * {@code running} until the closing {@code request} line, then that line's result ({@code succeeded},
 * {@code failed}, {@code skipped}, ...), or {@code rejected} / {@code recommended}.
 */
public record ActionView(String actionId, ActionKind action, Integer gpu, String uuid, String status, String statusUrl,
                         List<ActionRecord> steps) {

    public ActionView {
        steps = List.copyOf(steps);
    }

    static ActionView of(List<ActionRecord> lines) {
        ActionRecord first = lines.getFirst();
        String status = "running";
        for (ActionRecord r : lines) {
            if (r.step() == Step.REQUEST && r.result().finished()) {
                status = r.result().label();   // the closing line, or a refusal
            }
        }
        if (lines.stream().allMatch(r -> r.result() == Result.RECOMMENDED)) {
            status = Result.RECOMMENDED.label();
        } else if (lines.size() == 1 && first.step() != Step.REQUEST && first.result().finished()) {
            status = first.result().label();   // a one-line action: cordon, uncordon, clear
        }
        return new ActionView(first.actionId(), first.action(), first.gpu(), first.uuid(), status,
                "/v1/actions/" + first.actionId(), lines);
    }
}
