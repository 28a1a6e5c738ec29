package io.gpuagent.nvml;

/** Bits of {@code nvmlDeviceGetCurrentClocksEventReasons} (same values as the older ThrottleReasons). */
public final class ClockEventReasons {
    public static final long NONE = 0x0L;
    public static final long GPU_IDLE = 0x1L;
    public static final long APPLICATIONS_CLOCKS_SETTING = 0x2L;
    public static final long SW_POWER_CAP = 0x4L;
    public static final long HW_SLOWDOWN = 0x8L;
    public static final long SYNC_BOOST = 0x10L;
    public static final long SW_THERMAL_SLOWDOWN = 0x20L;
    public static final long HW_THERMAL_SLOWDOWN = 0x40L;
    public static final long HW_POWER_BRAKE_SLOWDOWN = 0x80L;
    public static final long DISPLAY_CLOCK_SETTING = 0x100L;

    private ClockEventReasons() {
    }
}
