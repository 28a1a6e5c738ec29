package io.gpuagent.agent.health.detect;

/** A GPU's health, worst last: a GPU's state is the worst of its detectors' verdicts. */
public enum HealthState {
    INITIALIZING, HEALTHY, DEGRADED, UNHEALTHY, LOST;

    /** HEALTHY and DEGRADED GPUs keep /health at 200; the others make it 503. */
    public boolean serving() {
        return this == HEALTHY || this == DEGRADED;
    }

    public HealthState worst(HealthState other) {
        return other.ordinal() > ordinal() ? other : this;
    }
}
