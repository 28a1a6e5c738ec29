package io.gpuagent.agent.recovery;

/** The outcome of one step. */
record StepOutcome(Result result, String detail) {

    static StepOutcome ok(String detail) {
        return new StepOutcome(Result.SUCCEEDED, detail);
    }

    static StepOutcome failed(String detail) {
        return new StepOutcome(Result.FAILED, detail);
    }
}
