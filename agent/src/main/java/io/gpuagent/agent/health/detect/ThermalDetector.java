package io.gpuagent.agent.health.detect;

import static io.gpuagent.agent.health.detect.RepairAction.INSPECT_HARDWARE;

import io.gpuagent.exporter.GpuSample;
import io.gpuagent.exporter.Reading;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Temperatures against the driver's thresholds.
 * <ul>
 * <li>GPU vs slowdown: DEGRADED within {@code margin} degrees below it or at/above it, UNHEALTHY once at/above
 * it for {@code window} (the GPU is throttling for good).</li>
 * <li>GPU vs shutdown: UNHEALTHY at once within {@code shutdownMargin} degrees of it: the driver is about to power the
 * GPU off, so nothing should be placed on it.</li>
 * <li>Memory (HBM) vs its maximum operating temperature: DEGRADED at/above it, UNHEALTHY when it lasts
 * {@code window} (HBM that runs hot throws ECC errors next).</li>
 * </ul>
 * The codes differ so that cooling down from UNHEALTHY still waits out the hysteresis.
 */
public final class ThermalDetector implements Detector {

    private static final String COOLING = "check cooling: fans and airflow, inlet temperature, blocked or dusty heat sinks";

    private final int margin;
    private final int shutdownMargin;
    private final Duration window;
    private final Map<String, Instant> hotSince = new HashMap<>();
    private final Map<String, Instant> memoryHotSince = new HashMap<>();

    public ThermalDetector(int margin, int shutdownMargin, Duration window) {
        this.margin = margin;
        this.shutdownMargin = shutdownMargin;
        this.window = window;
    }

    @Override
    public String name() {
        return "thermal";
    }

    @Override
    public List<Finding> evaluate(String gpu, GpuSample sample, Instant now) {
        List<Finding> findings = new ArrayList<>(0);
        gpuFinding(gpu, sample, now).ifPresent(findings::add);
        memoryFinding(gpu, sample, now).ifPresent(findings::add);
        return findings;
    }

    private Optional<Finding> gpuFinding(String gpu, GpuSample sample, Instant now) {
        double temp = sample.raw(Reading.GPU_TEMP_C);
        double slowdown = sample.raw(Reading.SLOWDOWN_TEMP_C);
        double shutdown = sample.raw(Reading.SHUTDOWN_TEMP_C);
        if (Double.isNaN(temp)) {
            hotSince.remove(gpu);
            return Optional.empty();
        }
        long t = (long) temp;
        if (known(shutdown) && temp >= shutdown - shutdownMargin) {
            return Optional.of(Finding.unhealthy(name(), "THERMAL_NEAR_SHUTDOWN", t + " C, within " + shutdownMargin
                    + " C of the shutdown threshold (" + (long) shutdown + " C): the driver powers the GPU off there",
                    "stop the work on this GPU now; " + COOLING, INSPECT_HARDWARE));
        }
        if (!known(slowdown)) {
            hotSince.remove(gpu);
            return Optional.empty();
        }
        long s = (long) slowdown;
        if (temp >= slowdown) {
            Instant since = hotSince.computeIfAbsent(gpu, k -> now);
            Duration hot = Duration.between(since, now);
            if (hot.compareTo(window) >= 0) {
                return Optional.of(Finding.unhealthy(name(), "THERMAL_SLOWDOWN_SUSTAINED", t + " C, at or above the slowdown threshold ("
                        + s + " C) for " + hot.toSeconds() + " s: the GPU is throttling", COOLING + "; lower the power limit",
                        INSPECT_HARDWARE));
            }
            return Optional.of(Finding.degraded(name(), "THERMAL_SLOWDOWN", t + " C, at or above the slowdown threshold ("
                    + s + " C); UNHEALTHY if it lasts " + window.toSeconds() + " s", COOLING));
        }
        hotSince.remove(gpu);
        if (temp >= slowdown - margin) {
            return Optional.of(Finding.degraded(name(), "THERMAL_NEAR_SLOWDOWN", t + " C, within " + margin
                    + " C of the slowdown threshold (" + s + " C)", COOLING));
        }
        return Optional.empty();
    }

    private Optional<Finding> memoryFinding(String gpu, GpuSample sample, Instant now) {
        double temp = sample.raw(Reading.MEMORY_TEMP_C);
        double max = sample.raw(Reading.MEM_MAX_OP_TEMP_C);
        if (Double.isNaN(temp) || !known(max) || temp < max) {
            memoryHotSince.remove(gpu);
            return Optional.empty();
        }
        long t = (long) temp;
        long m = (long) max;
        Duration hot = Duration.between(memoryHotSince.computeIfAbsent(gpu, k -> now), now);
        if (hot.compareTo(window) >= 0) {
            return Optional.of(Finding.unhealthy(name(), "MEMORY_TEMP_SUSTAINED", "memory at " + t
                    + " C, at or above its maximum operating temperature (" + m + " C) for " + hot.toSeconds() + " s",
                    COOLING + "; lower the power limit; watch for ECC errors", INSPECT_HARDWARE));
        }
        return Optional.of(Finding.degraded(name(), "MEMORY_TEMP_HIGH", "memory at " + t
                + " C, at or above its maximum operating temperature (" + m + " C); UNHEALTHY if it lasts "
                + window.toSeconds() + " s", COOLING));
    }

    private static boolean known(double threshold) {
        return !Double.isNaN(threshold) && threshold > 0;
    }

    @Override
    public void forget(String gpu) {
        hotSince.remove(gpu);
        memoryHotSince.remove(gpu);
    }
}
