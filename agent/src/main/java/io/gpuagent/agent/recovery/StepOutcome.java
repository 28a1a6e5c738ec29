package io.gpuagent.agent.recovery;

/** The outcome of one step; {@code powerCap} is set when the step capped the power limit. */
record StepOutcome(Result result, String detail, PowerCap powerCap) {

    StepOutcome(Result result, String detail) {
        this(result, detail, null);
    }

    static StepOutcome ok(String detail) {
        return new StepOutcome(Result.SUCCEEDED, detail);
    }

    static StepOutcome failed(String detail) {
        return new StepOutcome(Result.FAILED, detail);
    }

    /** A command that ended: ok, rejected when refused for lack of privilege (with the fix), else failed. */
    static StepOutcome of(String what, Commands.Outcome o) {
        if (o.ok()) {
            return ok(what + " " + o.describe());
        }
        if (Privilege.deniedBy(o)) {
            return new StepOutcome(Result.REJECTED, what + " was refused for lack of privilege (" + o.describe()
                    + "); nothing changed, so this does not count toward escalation: " + Privilege.FIX);
        }
        return o.timedOut() ? new StepOutcome(Result.TIMED_OUT, what + " " + o.describe()) : failed(what + " " + o.describe());
    }
}
