package io.gpuagent.nvml;

/** NVML event type bits ({@code nvmlEventType*}). Register {@code supported & wanted}; never hard-code "all". */
public final class EventTypes {
    public static final long SINGLE_BIT_ECC_ERROR = 0x1L;
    public static final long DOUBLE_BIT_ECC_ERROR = 0x2L;
    public static final long PSTATE = 0x4L;
    public static final long XID_CRITICAL_ERROR = 0x8L;
    public static final long CLOCK = 0x10L;
    public static final long POWER_SOURCE_CHANGE = 0x80L;
    public static final long MIG_CONFIG_CHANGE = 0x100L;
    public static final long SINGLE_BIT_ECC_ERROR_STORM = 0x200L;
    public static final long DRAM_RETIREMENT_EVENT = 0x400L;
    public static final long DRAM_RETIREMENT_FAILURE = 0x800L;
    public static final long NON_FATAL_POISON_ERROR = 0x1000L;
    public static final long FATAL_POISON_ERROR = 0x2000L;
    public static final long GPU_UNAVAILABLE_ERROR = 0x4000L;
    public static final long GPU_RECOVERY_ACTION = 0x8000L;

    private EventTypes() {
    }

    public static String name(long type) {
        return switch ((int) type) {
            case 0x1 -> "single_bit_ecc_error";
            case 0x2 -> "double_bit_ecc_error";
            case 0x4 -> "pstate";
            case 0x8 -> "xid_critical_error";
            case 0x10 -> "clock";
            case 0x80 -> "power_source_change";
            case 0x100 -> "mig_config_change";
            case 0x200 -> "single_bit_ecc_error_storm";
            case 0x400 -> "dram_retirement_event";
            case 0x800 -> "dram_retirement_failure";
            case 0x1000 -> "non_fatal_poison_error";
            case 0x2000 -> "fatal_poison_error";
            case 0x4000 -> "gpu_unavailable_error";
            case 0x8000 -> "gpu_recovery_action";
            default -> "0x" + Long.toHexString(type);
        };
    }
}
