package io.gpuagent.nvml;

/** {@code nvmlClockType_t}. */
public enum ClockType {
    GRAPHICS, SM, MEM, VIDEO;

    public int code() {
        return ordinal();
    }
}
