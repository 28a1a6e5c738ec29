package io.gpuagent.agent.health.detect;

import io.gpuagent.exporter.GpuSample;
import io.gpuagent.nvml.ClockEventReasons;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.StringJoiner;

/**
 * Clock event (throttle) reasons: DEGRADED when hardware slowdown, the power brake or thermal slowdown have
 * held the clocks down for {@code window} without a break. Software power capping is normal under load and
 * not judged.
 */
public final class ClocksDetector implements Detector {

    static final long WATCHED = ClockEventReasons.HW_SLOWDOWN | ClockEventReasons.HW_THERMAL_SLOWDOWN
            | ClockEventReasons.HW_POWER_BRAKE_SLOWDOWN | ClockEventReasons.SW_THERMAL_SLOWDOWN;

    private final Duration window;
    private final Map<String, Instant> throttledSince = new HashMap<>();

    public ClocksDetector(Duration window) {
        this.window = window;
    }

    @Override
    public String name() {
        return "clocks";
    }

    @Override
    public List<Finding> evaluate(String gpu, GpuSample sample, Instant now) {
        OptionalLong reasons = sample.clockEventReasons();
        long active = reasons.isPresent() ? reasons.getAsLong() & WATCHED : 0;
        if (active == 0) {
            throttledSince.remove(gpu);
            return List.of();
        }
        Duration held = Duration.between(throttledSince.computeIfAbsent(gpu, k -> now), now);
        if (held.compareTo(window) < 0) {
            return List.of();
        }
        return List.of(Finding.degraded(name(), "CLOCKS_THROTTLED", "clocks held down by " + names(active) + " for "
                        + held.toSeconds() + " s",
                "check cooling and power delivery (PSUs, power brake signal); nvidia-smi -q -d PERFORMANCE shows the reasons"));
    }

    static String names(long bits) {
        StringJoiner j = new StringJoiner(", ");
        if ((bits & ClockEventReasons.HW_SLOWDOWN) != 0) {
            j.add("hw_slowdown");
        }
        if ((bits & ClockEventReasons.HW_THERMAL_SLOWDOWN) != 0) {
            j.add("hw_thermal_slowdown");
        }
        if ((bits & ClockEventReasons.HW_POWER_BRAKE_SLOWDOWN) != 0) {
            j.add("hw_power_brake_slowdown");
        }
        if ((bits & ClockEventReasons.SW_THERMAL_SLOWDOWN) != 0) {
            j.add("sw_thermal_slowdown");
        }
        return j.toString();
    }

    @Override
    public void forget(String gpu) {
        throttledSince.remove(gpu);
    }
}
