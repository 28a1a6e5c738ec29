package io.gpuagent.agent.health.detect;

import static io.gpuagent.agent.health.detect.RepairAction.CHECK_APPLICATION;
import static io.gpuagent.agent.health.detect.RepairAction.DRAIN_AND_RESET;

import io.gpuagent.exporter.GpuSample;
import io.gpuagent.exporter.Reading;
import io.gpuagent.nvml.EventTypes;
import io.gpuagent.nvml.GpuEvent;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * ECC: UNHEALTHY (sticky) when the uncorrected volatile count grows, DEGRADED when corrected errors come
 * faster than the threshold. The volatile count starts at 0 when the driver loads or the GPU is reset, so a
 * count already above 0 when the agent starts is an uncorrected error the GPU has not been reset since.
 */
public final class EccDetector implements Detector {

    static final String UNCORRECTED = "ECC_UNCORRECTED";
    private static final String UNCORRECTED_ACTION = "drain the GPU and reset it; inspect the hardware if it repeats";

    private final Duration window;
    private final double correctedPerHour;
    private final Map<String, Double> uncorrectedSeen = new HashMap<>();
    private final Map<String, RateWindow> corrected = new HashMap<>();

    public EccDetector(Duration window, double correctedPerHour) {
        this.window = window;
        this.correctedPerHour = correctedPerHour;
    }

    @Override
    public String name() {
        return "ecc";
    }

    @Override
    public List<Finding> evaluate(String gpu, GpuSample sample, Instant now) {
        List<Finding> out = new ArrayList<>(0);
        double dbe = sample.raw(Reading.ECC_DBE_VOLATILE);
        if (!Double.isNaN(dbe)) {
            Double before = uncorrectedSeen.put(gpu, dbe);
            double was = before == null ? 0 : before;
            if (dbe > was) {
                out.add(Finding.unhealthy(name(), UNCORRECTED, "uncorrected (double-bit) ECC errors: volatile count "
                        + (long) dbe + ", was " + (long) was, UNCORRECTED_ACTION, DRAIN_AND_RESET).asSticky());
            }
        }
        double sbe = sample.raw(Reading.ECC_SBE_VOLATILE);
        if (!Double.isNaN(sbe)) {
            double increase = corrected.computeIfAbsent(gpu, k -> new RateWindow(window)).add(now, sbe);
            double budget = RateWindow.budget(window, correctedPerHour / 60);
            if (increase > budget) {
                out.add(Finding.degraded(name(), "ECC_CORRECTED_RATE", (long) increase
                        + " corrected ECC errors in the last " + window.toSeconds() + " s (limit " + correctedPerHour
                        + " per hour)", "watch the GPU; reset it at the next idle moment if the rate keeps up"));
            }
        }
        return out;
    }

    @Override
    public List<Finding> onEvent(String gpu, GpuEvent event, Instant now) {
        long type = event.eventType();
        if (type == EventTypes.DOUBLE_BIT_ECC_ERROR) {
            return List.of(Finding.unhealthy(name(), UNCORRECTED, "uncorrected (double-bit) ECC error reported by the driver",
                    UNCORRECTED_ACTION, DRAIN_AND_RESET).asSticky());
        }
        if (type == EventTypes.FATAL_POISON_ERROR) {
            return List.of(Finding.unhealthy(name(), "ECC_POISON_FATAL", "fatal poison error (uncontained memory error)",
                    UNCORRECTED_ACTION, DRAIN_AND_RESET).asSticky());
        }
        if (type == EventTypes.SINGLE_BIT_ECC_ERROR_STORM) {
            return List.of(Finding.degraded(name(), "ECC_CORRECTED_STORM", "storm of corrected (single-bit) ECC errors",
                    "watch the GPU; reset it at the next idle moment if it repeats"));
        }
        if (type == EventTypes.NON_FATAL_POISON_ERROR) {
            return List.of(Finding.degraded(name(), "ECC_POISON", "contained poison error: an application hit bad memory",
                    "restart the affected application", CHECK_APPLICATION));
        }
        return List.of();
    }

    @Override
    public void forget(String gpu) {
        uncorrectedSeen.remove(gpu);
        corrected.remove(gpu);
    }
}
