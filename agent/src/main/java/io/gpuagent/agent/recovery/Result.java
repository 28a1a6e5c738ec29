package io.gpuagent.agent.recovery;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** The outcome one audit line records. */
public enum Result {
    /** Observe mode, or a rail in the way: what enforce mode would do. Nothing changed. */
    RECOMMENDED,
    /** Written before the step acts. */
    STARTED,
    SUCCEEDED,
    FAILED,
    /** Refused before anything changed: another action in progress, rate limit, not drained, bad request. */
    REJECTED,
    /** The step ran past its bound and was stopped. */
    TIMED_OUT,
    /** Not run: the node breaker is open, or an earlier step failed. */
    SKIPPED;

    @JsonValue
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    @JsonCreator
    public static Result parse(String text) {
        return valueOf(text.toUpperCase(Locale.ROOT));
    }

    /** True for the results that end a step. */
    public boolean finished() {
        return this != STARTED;
    }
}
