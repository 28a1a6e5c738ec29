package io.gpuagent.nvml;

/** {@code nvmlUtilization_t}: percent of the last sample period. */
public record Utilization(int gpu, int memory) {
}
