package io.gpuagent.nvml;

/** One GPM metric over an interval; {@code returnCode} is NVML's per-metric status. */
public record GpmMetricValue(int metricId, int returnCode, double value) {
    public boolean ok() {
        return returnCode == NvmlReturn.SUCCESS.code();
    }
}
