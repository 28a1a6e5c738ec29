package io.gpuagent.agent.recovery;

/**
 * Recovery's writes to the audit log. Escalation and the reset rate limit count audit lines, so every line
 * goes to them as it is written (and, at start, as it is replayed): the rails never disagree with the file.
 */
final class ActionLog {

    private final ActionAudit audit;
    private final Escalation escalation;
    private final ResetRateLimit rateLimit;

    ActionLog(ActionAudit audit, Escalation escalation, ResetRateLimit rateLimit) {
        this.audit = audit;
        this.escalation = escalation;
        this.rateLimit = rateLimit;
    }

    /** Appends a line (durable when this returns) and keeps the rails' counts in step with it. */
    ActionRecord append(ActionRecord line) {
        ActionRecord stored = audit.append(line);
        count(stored);
        return stored;
    }

    /** Counts a line of the audit log replayed at start. */
    void replayed(ActionRecord r) {
        count(r);
    }

    private void count(ActionRecord r) {
        escalation.record(r);
        if (r.uuid() != null && r.step() == Step.RESET && r.result() == Result.STARTED) {
            rateLimit.record(r.uuid(), r.actionId(), r.time());
        }
        if (r.uuid() != null && r.step() == Step.RESET && r.result() == Result.REJECTED) {
            rateLimit.forget(r.uuid(), r.actionId());   // refused (privilege) after it started: nothing was reset
        }
    }
}
