package io.gpuagent.nvml;

/** {@code nvmlEccCounterType_t}: VOLATILE resets at driver load, AGGREGATE is lifetime. */
public enum EccCounterType {
    VOLATILE, AGGREGATE;

    public int code() {
        return ordinal();
    }
}
