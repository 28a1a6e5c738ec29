package io.gpuagent.exporter;

import io.gpuagent.nvml.ClockEventReasons;
import java.util.List;

/**
 * The clock event (throttle) reasons of {@code nvmlDeviceGetCurrentClocksEventReasons}, with the
 * {@code clock_event} label dcgm-exporter gives each on {@code DCGM_EXP_CLOCK_EVENTS_TOTAL} (its
 * {@code clockEventToString}, internal/pkg/collector/clock_events_collector.go) and the reading that counts
 * the times the reason began.
 */
public enum ClockEvent {
    GPU_IDLE(ClockEventReasons.GPU_IDLE, "gpu_idle", Reading.CLOCK_EVENTS_GPU_IDLE_TOTAL),
    CLOCKS_SETTING(ClockEventReasons.APPLICATIONS_CLOCKS_SETTING, "clocks_setting",
            Reading.CLOCK_EVENTS_CLOCKS_SETTING_TOTAL),
    POWER_CAP(ClockEventReasons.SW_POWER_CAP, "power_cap", Reading.CLOCK_EVENTS_POWER_CAP_TOTAL),
    HW_SLOWDOWN(ClockEventReasons.HW_SLOWDOWN, "hw_slowdown", Reading.CLOCK_EVENTS_HW_SLOWDOWN_TOTAL),
    SYNC_BOOST(ClockEventReasons.SYNC_BOOST, "sync_boost", Reading.CLOCK_EVENTS_SYNC_BOOST_TOTAL),
    SW_THERMAL(ClockEventReasons.SW_THERMAL_SLOWDOWN, "sw_thermal", Reading.CLOCK_EVENTS_SW_THERMAL_TOTAL),
    HW_THERMAL(ClockEventReasons.HW_THERMAL_SLOWDOWN, "hw_thermal", Reading.CLOCK_EVENTS_HW_THERMAL_TOTAL),
    HW_POWER_BRAKE(ClockEventReasons.HW_POWER_BRAKE_SLOWDOWN, "hw_power_brake",
            Reading.CLOCK_EVENTS_HW_POWER_BRAKE_TOTAL),
    DISPLAY_CLOCKS(ClockEventReasons.DISPLAY_CLOCK_SETTING, "display_clocks", Reading.CLOCK_EVENTS_DISPLAY_CLOCKS_TOTAL);

    private static final List<ClockEvent> ALL = List.of(values());

    private final long bit;
    private final String label;
    private final Reading total;

    ClockEvent(long bit, String label, Reading total) {
        this.bit = bit;
        this.label = label;
        this.total = total;
    }

    /** The reason's bit in {@link Reading#CLOCK_EVENT_REASONS}. */
    public long bit() {
        return bit;
    }

    /** The {@code clock_event} label value. */
    public String label() {
        return label;
    }

    /** The reading counting the times this reason began. */
    public Reading total() {
        return total;
    }

    /** Every reason, in bit order. */
    public static List<ClockEvent> all() {
        return ALL;
    }
}
