package io.gpuagent.agent.nvml;

import jakarta.interceptor.Interceptor;

/**
 * The order in which the agent lets go of NVML at shutdown ({@code @Priority} of the {@code ShutdownEvent}
 * observers; lower runs first). Every user of NVML stops before NVML itself: the real library frees device
 * handles, event sets and GPM samples in its last {@code nvmlShutdown}, and a call still using one then is a
 * use after free that kills the process.
 */
public final class ShutdownOrder {
    /** The event watcher: out of {@code nvmlEventSetWait_v2}, its set freed. */
    public static final int EVENTS = Interceptor.Priority.PLATFORM_BEFORE + 10;
    /** The sampler: its thread and GPU readers stopped, GPM samples freed. */
    public static final int SAMPLER = EVENTS + 10;
    /** Recovery: no new step starts; a running NVML write finishes (NVML's guard waits for it). */
    public static final int RECOVERY = SAMPLER + 10;
    /** NVML itself, after all of the above (and after every observer without a priority). */
    public static final int NVML = Interceptor.Priority.PLATFORM_AFTER + 1000;

    private ShutdownOrder() {
    }
}
