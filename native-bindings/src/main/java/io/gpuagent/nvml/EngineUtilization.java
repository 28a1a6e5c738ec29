package io.gpuagent.nvml;

/** Encoder or decoder utilization, percent, over {@code samplingPeriodUs}. */
public record EngineUtilization(int percent, int samplingPeriodUs) {
}
