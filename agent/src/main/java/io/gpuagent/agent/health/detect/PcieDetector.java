package io.gpuagent.agent.health.detect;

import static io.gpuagent.agent.health.detect.RepairAction.INSPECT_HARDWARE;

import io.gpuagent.exporter.GpuSample;
import io.gpuagent.exporter.Reading;
import io.gpuagent.nvml.ClockEventReasons;
import io.gpuagent.nvml.PcieLink;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * PCIe: DEGRADED when replays come faster than the threshold, or the link runs below its maximum width, or
 * below its maximum generation while the GPU is busy (an idle GPU lowers its link speed to save power, so
 * the generation is only judged when the clock reasons say the GPU is not idle).
 */
public final class PcieDetector implements Detector {

    private static final String CHECK_LINK = "check the PCIe path: reseat the GPU or its riser, check cables and the slot; "
            + "have the hardware inspected if it continues";

    private final Duration window;
    private final double replaysPerMinute;
    private final Map<String, RateWindow> replays = new HashMap<>();

    public PcieDetector(Duration window, double replaysPerMinute) {
        this.window = window;
        this.replaysPerMinute = replaysPerMinute;
    }

    @Override
    public String name() {
        return "pcie";
    }

    @Override
    public List<Finding> evaluate(String gpu, GpuSample sample, Instant now) {
        List<Finding> out = new ArrayList<>(0);
        double replay = sample.raw(Reading.PCIE_REPLAY_COUNTER);
        if (!Double.isNaN(replay)) {
            double increase = replays.computeIfAbsent(gpu, k -> new RateWindow(window)).add(now, replay);
            if (increase > RateWindow.budget(window, replaysPerMinute)) {
                out.add(Finding.degraded(name(), "PCIE_REPLAY_RATE", (long) increase + " PCIe replays in the last "
                        + window.toSeconds() + " s (limit " + replaysPerMinute + " per minute)", CHECK_LINK, INSPECT_HARDWARE));
            }
        }
        Optional<PcieLink> link = sample.pcieLink();
        if (link.isPresent()) {
            PcieLink l = link.get();
            OptionalLong reasons = sample.clockEventReasons();
            boolean busy = reasons.isPresent() && (reasons.getAsLong() & ClockEventReasons.GPU_IDLE) == 0;
            if (l.currentWidth() < l.maxWidth() || (busy && l.currentGeneration() < l.maxGeneration())) {
                out.add(Finding.degraded(name(), "PCIE_LINK_DEGRADED", "PCIe link runs at gen " + l.currentGeneration()
                        + " x" + l.currentWidth() + ", capable of gen " + l.maxGeneration() + " x" + l.maxWidth(),
                        CHECK_LINK, INSPECT_HARDWARE));
            }
        }
        return out;
    }

    @Override
    public void forget(String gpu) {
        replays.remove(gpu);
    }
}
