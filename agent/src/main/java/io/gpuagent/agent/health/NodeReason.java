package io.gpuagent.agent.health;

import io.gpuagent.agent.health.detect.HealthState;
import io.gpuagent.agent.health.detect.RepairAction;
import java.time.Instant;
import java.util.List;

/**
 * Why the node is not HEALTHY: a {@link Reason} of a node check, with the check ({@code kernel_module},
 * {@code ib_ports}, ...) and what it is about ({@code node}, {@code gpu:GPU-...}, {@code ib_port:mlx5_0/1}).
 */
public record NodeReason(String check, String subject, String detector, String code, HealthState state, String message,
                         String action, List<RepairAction> actions, boolean sticky, Instant firstSeen, Instant lastSeen,
                         long count) {

    public NodeReason {
        actions = List.copyOf(actions);
    }
}
