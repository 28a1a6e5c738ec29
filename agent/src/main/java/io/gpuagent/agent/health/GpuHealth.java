package io.gpuagent.agent.health;

import io.gpuagent.agent.health.detect.HealthState;
import io.gpuagent.agent.health.detect.RepairAction;
import java.time.Instant;
import java.util.List;

/**
 * One GPU's judged health: its state, since when, every reason behind it (worst first; empty when HEALTHY)
 * and the repair actions those reasons suggest (mildest first; empty when there is nothing to do).
 */
public record GpuHealth(int index, String uuid, String name, HealthState state, Instant since, List<Reason> reasons,
                        List<RepairAction> actions) {

    public GpuHealth {
        reasons = List.copyOf(reasons);
        actions = List.copyOf(actions);
    }

    public GpuHealth(int index, String uuid, String name, HealthState state, Instant since, List<Reason> reasons) {
        this(index, uuid, name, state, since, reasons, List.of());
    }
}
