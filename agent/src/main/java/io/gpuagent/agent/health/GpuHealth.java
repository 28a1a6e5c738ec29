package io.gpuagent.agent.health;

import java.time.Instant;
import java.util.List;

/** One GPU's judged health: its state, since when, and every reason behind it (empty when HEALTHY). */
public record GpuHealth(int index, String uuid, String name, HealthState state, Instant since, List<Reason> reasons) {

    public GpuHealth {
        reasons = List.copyOf(reasons);
    }
}
