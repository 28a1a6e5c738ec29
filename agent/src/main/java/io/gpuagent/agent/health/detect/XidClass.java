package io.gpuagent.agent.health.detect;

/** How an XID is judged (docs/faults.md#xid-classes); configurable per code with {@code gpu-agent.health.xid-class.<code>}. */
public enum XidClass {
    /** Counted and logged, no effect on health. */
    IGNORE,
    /** DEGRADED for the hysteresis window after the last occurrence. */
    WARNING,
    /** UNHEALTHY until an operator clear or a recovery action. */
    FATAL,
    /** LOST (fell off the bus) until an operator clear or a recovery action. */
    LOST
}
