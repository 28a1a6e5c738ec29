package io.gpuagent.agent.health;

import java.time.Instant;

/**
 * Why a GPU (or the agent) is not HEALTHY: which detector, a stable machine-readable code, a sentence for
 * a person, and what to do about it.
 */
public record Reason(String detector, String code, HealthState state, String message, String action,
                     Instant firstSeen, Instant lastSeen, long count) {

    public static Reason of(String detector, String code, HealthState state, String message, String action, Instant at) {
        return new Reason(detector, code, state, message, action, at, at, 1);
    }
}
