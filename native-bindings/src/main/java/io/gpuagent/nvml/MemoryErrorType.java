package io.gpuagent.nvml;

/** {@code nvmlMemoryErrorType_t}: CORRECTED is single-bit (SBE), UNCORRECTED double-bit (DBE). */
public enum MemoryErrorType {
    CORRECTED, UNCORRECTED;

    public int code() {
        return ordinal();
    }
}
