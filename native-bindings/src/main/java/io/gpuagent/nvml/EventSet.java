package io.gpuagent.nvml;

import java.util.Optional;

/** An {@code nvmlEventSet_t}. Events are recorded only after registration. */
public interface EventSet extends AutoCloseable {

    /**
     * Registers {@code wanted & supported} event types for {@code device}; returns the mask registered
     * (0 when the device supports none of them).
     */
    long register(GpuDevice device, long wanted);

    /**
     * {@code nvmlEventSetWait_v2}: the next event, or empty after {@code timeoutMs} without one. Blocks the
     * calling thread in native code: use a platform thread.
     */
    Optional<GpuEvent> await(int timeoutMs);

    /** {@code nvmlEventSetFree}. */
    @Override
    void close();
}
