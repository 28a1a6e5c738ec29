package io.gpuagent.nvml;

/** {@code nvmlPageRetirementCause_t}. */
public enum RetirementCause {
    MULTIPLE_SINGLE_BIT_ECC_ERRORS, DOUBLE_BIT_ECC_ERROR;

    public int code() {
        return ordinal();
    }
}
