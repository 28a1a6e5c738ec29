package io.gpuagent.agent.health.detect;

import java.util.List;

/**
 * One thing a detector saw on one GPU: the state it calls for, a stable code, a sentence for a person, what
 * to do (in words and as actions), and whether it is sticky (only a clear or a recovery removes it).
 */
public record Finding(String detector, String code, HealthState state, boolean sticky, String message, String action,
                      List<RepairAction> actions) {

    public Finding {
        actions = List.copyOf(actions);
    }

    /** DEGRADED, gone once absent for the hysteresis window. */
    public static Finding degraded(String detector, String code, String message, String action, RepairAction... actions) {
        return new Finding(detector, code, HealthState.DEGRADED, false, message, action, List.of(actions));
    }

    /** UNHEALTHY, gone once absent for the hysteresis window. */
    public static Finding unhealthy(String detector, String code, String message, String action, RepairAction... actions) {
        return new Finding(detector, code, HealthState.UNHEALTHY, false, message, action, List.of(actions));
    }

    /** This finding, but removed only by an operator clear or a recovery action. */
    public Finding asSticky() {
        return new Finding(detector, code, state, true, message, action, actions);
    }

    /** Reasons are keyed by detector and code: the same code again refreshes the reason. */
    public String key() {
        return detector + '/' + code;
    }
}
