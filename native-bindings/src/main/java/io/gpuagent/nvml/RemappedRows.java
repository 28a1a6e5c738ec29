package io.gpuagent.nvml;

/** {@code nvmlDeviceGetRemappedRows}: {@code pending} means a reset is needed to apply a remap. */
public record RemappedRows(int correctable, int uncorrectable, boolean pending, boolean failure) {
}
