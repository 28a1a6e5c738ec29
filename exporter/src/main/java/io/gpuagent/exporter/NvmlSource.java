package io.gpuagent.exporter;

import io.gpuagent.nvml.Nvml;
import java.util.Optional;

/**
 * Where the sampler gets NVML from. The agent owns opening it (with retry and backoff); the sampler only
 * reads through the instance it is handed on each sweep. When {@link #current()} returns a different
 * instance than before, the sampler drops every cached handle and starts over.
 */
public interface NvmlSource {

    /** The NVML instance to read now, or empty while NVML is down. */
    Optional<Nvml> current();

    /** Why NVML is down, for {@code /health} and the snapshot; null while it is up. */
    default String downReason() {
        return null;
    }

    /**
     * Why NVML is released on purpose for a while (the agent lets go of the GPUs so that one can be reset),
     * or null. While released, {@link #current()} is empty and the sampler serves the last readings marked
     * {@link GpuStatus#STALE} with this reason, instead of reporting NVML down.
     */
    default String releasedReason() {
        return null;
    }

    /** A source that always hands out {@code nvml} (tests, tools). */
    static NvmlSource of(Nvml nvml) {
        Optional<Nvml> it = Optional.of(nvml);
        return () -> it;
    }
}
