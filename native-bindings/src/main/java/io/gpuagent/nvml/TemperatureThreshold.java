package io.gpuagent.nvml;

/** {@code nvmlTemperatureThresholds_t}. */
public enum TemperatureThreshold {
    SHUTDOWN, SLOWDOWN, MEM_MAX, GPU_MAX;

    public int code() {
        return ordinal();
    }
}
