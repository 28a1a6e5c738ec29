package io.gpuagent.agent.health;

import io.gpuagent.agent.health.detect.HealthState;
import io.gpuagent.agent.health.detect.RepairAction;
import java.time.Instant;
import java.util.List;

/**
 * Why a GPU (or the agent) is not HEALTHY: which detector, a stable machine-readable code, a sentence for
 * a person, what to do about it (in words and as {@link RepairAction}s), and how often it was seen.
 *
 * @param sticky    only an operator clear or a recovery action removes it (fatal XIDs, pending remaps, ...);
 *                  other reasons go away by themselves once absent for the hysteresis window
 * @param firstSeen when it was first raised
 * @param lastSeen  when a detector last reported it
 * @param count     how many times it was raised (an XID per occurrence; a condition once per onset)
 */
public record Reason(String detector, String code, HealthState state, String message, String action,
                     List<RepairAction> actions, boolean sticky, Instant firstSeen, Instant lastSeen, long count) {

    public Reason {
        actions = List.copyOf(actions);
    }

    public static Reason of(String detector, String code, HealthState state, String message, String action, Instant at) {
        return new Reason(detector, code, state, message, action, List.of(), false, at, at, 1);
    }
}
