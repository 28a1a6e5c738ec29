package io.gpuagent.nvml;

/** {@code nvmlGpmMetricId_t} values the agent reads (percent 0..100 unless noted). */
public final class GpmMetricIds {
    public static final int GRAPHICS_UTIL = 1;
    public static final int SM_UTIL = 2;
    public static final int SM_OCCUPANCY = 3;
    public static final int INTEGER_UTIL = 4;
    public static final int ANY_TENSOR_UTIL = 5;
    public static final int DFMA_TENSOR_UTIL = 6;
    public static final int HMMA_TENSOR_UTIL = 7;
    public static final int IMMA_TENSOR_UTIL = 9;
    public static final int DRAM_BW_UTIL = 10;
    public static final int FP64_UTIL = 11;
    public static final int FP32_UTIL = 12;
    public static final int FP16_UTIL = 13;
    /** MiB/s. */
    public static final int PCIE_TX_PER_SEC = 20;
    /** MiB/s. */
    public static final int PCIE_RX_PER_SEC = 21;
    /** MiB/s. */
    public static final int NVLINK_TOTAL_RX_PER_SEC = 60;
    /** MiB/s. */
    public static final int NVLINK_TOTAL_TX_PER_SEC = 61;

    private GpmMetricIds() {
    }
}
