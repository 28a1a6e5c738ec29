package io.gpuagent.nvml;

/** {@code nvmlBAR1Memory_t}, bytes. */
public record Bar1Memory(long total, long free, long used) {
}
