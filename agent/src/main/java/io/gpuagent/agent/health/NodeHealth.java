package io.gpuagent.agent.health;

import io.gpuagent.agent.health.detect.HealthState;
import io.gpuagent.agent.health.detect.NodeCheck;
import java.time.Instant;
import java.util.List;

/**
 * The node's verdict beside the GPUs' (docs/node-health.md): the worst of its node checks' reasons, each check's
 * state (every check listed, HEALTHY when it has no reason), and the reasons, worst first. {@code checkedAt} is
 * the host sample's time; INITIALIZING until the first node sweep.
 */
public record NodeHealth(HealthState state, Instant since, Instant checkedAt, List<Check> checks, List<NodeReason> reasons) {

    public NodeHealth {
        checks = List.copyOf(checks);
        reasons = List.copyOf(reasons);
    }

    /** One node check's state and, when not HEALTHY, its worst reason's message. */
    public record Check(String check, HealthState state, String reason) {
    }

    public static NodeHealth initializing(Instant now) {
        return new NodeHealth(HealthState.INITIALIZING, now, null,
                java.util.Arrays.stream(NodeCheck.values()).map(c -> new Check(c.label(), HealthState.INITIALIZING, null))
                        .toList(), List.of());
    }

    /** The check named {@code label}'s state; INITIALIZING when unknown. */
    public HealthState stateOf(String label) {
        for (Check c : checks) {
            if (c.check().equals(label)) {
                return c.state();
            }
        }
        return HealthState.INITIALIZING;
    }
}
