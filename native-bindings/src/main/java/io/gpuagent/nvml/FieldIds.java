package io.gpuagent.nvml;

/**
 * {@code NVML_FI_*} ids the agent uses. All are below 251: ids 251+ were renumbered between 570 and 580
 * drivers (docs/nvml.md#field-values) and are avoided.
 */
public final class FieldIds {
    public static final int ECC_CURRENT = 1;
    public static final int ECC_PENDING = 2;
    public static final int ECC_SBE_VOL_TOTAL = 3;
    public static final int ECC_DBE_VOL_TOTAL = 4;
    public static final int ECC_SBE_AGG_TOTAL = 5;
    public static final int ECC_DBE_AGG_TOTAL = 6;
    public static final int RETIRED_SBE = 29;
    public static final int RETIRED_DBE = 30;
    public static final int RETIRED_PENDING = 31;
    public static final int NVLINK_CRC_FLIT_ERROR_COUNT_TOTAL = 38;
    public static final int NVLINK_CRC_DATA_ERROR_COUNT_TOTAL = 45;
    public static final int NVLINK_REPLAY_ERROR_COUNT_TOTAL = 52;
    public static final int NVLINK_RECOVERY_ERROR_COUNT_TOTAL = 59;
    public static final int PERF_POLICY_POWER = 74;
    public static final int PERF_POLICY_THERMAL = 75;
    public static final int PERF_POLICY_SYNC_BOOST = 76;
    public static final int PERF_POLICY_BOARD_LIMIT = 77;
    public static final int PERF_POLICY_LOW_UTILIZATION = 78;
    public static final int PERF_POLICY_RELIABILITY = 79;
    public static final int MEMORY_TEMP = 82;
    public static final int TOTAL_ENERGY_CONSUMPTION = 83;
    public static final int NVLINK_LINK_COUNT = 91;
    public static final int RETIRED_PENDING_SBE = 92;
    public static final int RETIRED_PENDING_DBE = 93;
    public static final int PCIE_REPLAY_COUNTER = 94;
    public static final int PCIE_REPLAY_ROLLOVER_COUNTER = 95;
    public static final int NVLINK_THROUGHPUT_DATA_TX = 138;
    public static final int NVLINK_THROUGHPUT_DATA_RX = 139;
    public static final int NVLINK_THROUGHPUT_RAW_TX = 140;
    public static final int NVLINK_THROUGHPUT_RAW_RX = 141;
    public static final int REMAPPED_COR = 142;
    public static final int REMAPPED_UNC = 143;
    public static final int REMAPPED_PENDING = 144;
    public static final int REMAPPED_FAILURE = 145;
    public static final int POWER_AVERAGE = 185;
    public static final int POWER_INSTANT = 186;
    public static final int POWER_MIN_LIMIT = 187;
    public static final int POWER_MAX_LIMIT = 188;
    public static final int POWER_DEFAULT_LIMIT = 189;
    public static final int POWER_CURRENT_LIMIT = 190;
    public static final int ENERGY = 191;
    public static final int POWER_REQUESTED_LIMIT = 192;
    public static final int TEMPERATURE_SHUTDOWN_TLIMIT = 193;
    public static final int TEMPERATURE_SLOWDOWN_TLIMIT = 194;
    public static final int TEMPERATURE_MEM_MAX_TLIMIT = 195;
    public static final int TEMPERATURE_GPU_MAX_TLIMIT = 196;
    public static final int GET_GPU_RECOVERY_ACTION = 230;
    /** {@code scopeId} meaning "sum over all NVLinks" for the throughput fields. */
    public static final int SCOPE_ALL_LINKS = 0xFFFFFFFF;

    private FieldIds() {
    }
}
