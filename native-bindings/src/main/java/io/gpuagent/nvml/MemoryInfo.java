package io.gpuagent.nvml;

/**
 * Frame-buffer memory in bytes. From {@code nvmlDeviceGetMemoryInfo_v2} when the driver has it
 * ({@code versioned = true}, {@code reserved} filled), else from the v1 call ({@code reserved = 0}).
 */
public record MemoryInfo(long total, long reserved, long free, long used, boolean versioned) {
}
