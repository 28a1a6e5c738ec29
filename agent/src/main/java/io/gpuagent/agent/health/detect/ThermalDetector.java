package io.gpuagent.agent.health.detect;

import static io.gpuagent.agent.health.RepairAction.INSPECT_HARDWARE;

import io.gpuagent.exporter.GpuSample;
import io.gpuagent.exporter.Reading;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * GPU temperature against the driver's slowdown threshold: DEGRADED within {@code margin} degrees below it
 * or at/above it, UNHEALTHY once at/above it for {@code window} (the GPU is throttling for good). The codes
 * differ so that cooling down from UNHEALTHY still waits out the hysteresis.
 */
public final class ThermalDetector implements Detector {

    private static final String COOLING = "check cooling: fans and airflow, inlet temperature, blocked or dusty heat sinks";

    private final int margin;
    private final Duration window;
    private final Map<String, Instant> hotSince = new HashMap<>();

    public ThermalDetector(int margin, Duration window) {
        this.margin = margin;
        this.window = window;
    }

    @Override
    public String name() {
        return "thermal";
    }

    @Override
    public List<Finding> evaluate(String gpu, GpuSample sample, Instant now) {
        double temp = sample.raw(Reading.GPU_TEMP_C);
        double slowdown = sample.raw(Reading.SLOWDOWN_TEMP_C);
        if (Double.isNaN(temp) || Double.isNaN(slowdown) || slowdown <= 0) {
            hotSince.remove(gpu);
            return List.of();
        }
        long t = (long) temp;
        long s = (long) slowdown;
        if (temp >= slowdown) {
            Instant since = hotSince.computeIfAbsent(gpu, k -> now);
            Duration hot = Duration.between(since, now);
            if (hot.compareTo(window) >= 0) {
                return List.of(Finding.unhealthy(name(), "THERMAL_SLOWDOWN_SUSTAINED", t + " C, at or above the slowdown threshold ("
                        + s + " C) for " + hot.toSeconds() + " s: the GPU is throttling", COOLING + "; lower the power limit",
                        INSPECT_HARDWARE));
            }
            return List.of(Finding.degraded(name(), "THERMAL_SLOWDOWN", t + " C, at or above the slowdown threshold ("
                    + s + " C); UNHEALTHY if it lasts " + window.toSeconds() + " s", COOLING));
        }
        hotSince.remove(gpu);
        if (temp >= slowdown - margin) {
            return List.of(Finding.degraded(name(), "THERMAL_NEAR_SLOWDOWN", t + " C, within " + margin
                    + " C of the slowdown threshold (" + s + " C)", COOLING));
        }
        return List.of();
    }

    @Override
    public void forget(String gpu) {
        hotSince.remove(gpu);
    }
}
