package io.gpuagent.agent.health.detect;

import static io.gpuagent.agent.health.detect.RepairAction.DRAIN_AND_RESET;

import io.gpuagent.exporter.GpuSample;
import io.gpuagent.exporter.NvLinkInfo;
import io.gpuagent.exporter.Reading;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * NVLink: UNHEALTHY while a link that was up is down; DEGRADED when replay plus recovery errors, or CRC
 * errors, come faster than their thresholds (DCGM's limits by default). Rates use the per-GPU totals.
 */
public final class NvLinkDetector implements Detector {

    private final Duration window;
    private final double errorsPerMinute;
    private final double crcPerSecond;
    private final Map<String, Set<Integer>> wasUp = new HashMap<>();
    private final Map<String, RateWindow> errors = new HashMap<>();
    private final Map<String, RateWindow> crc = new HashMap<>();

    public NvLinkDetector(Duration window, double errorsPerMinute, double crcPerSecond) {
        this.window = window;
        this.errorsPerMinute = errorsPerMinute;
        this.crcPerSecond = crcPerSecond;
    }

    @Override
    public String name() {
        return "nvlink";
    }

    @Override
    public List<Finding> evaluate(String gpu, GpuSample sample, Instant now) {
        List<Finding> out = new ArrayList<>(0);
        Set<Integer> up = wasUp.computeIfAbsent(gpu, k -> new HashSet<>());
        List<Integer> down = new ArrayList<>(0);
        for (NvLinkInfo link : sample.nvLinks()) {
            if (link.active()) {
                up.add(link.link());
            } else if (up.contains(link.link())) {
                down.add(link.link());
            }
        }
        if (!down.isEmpty()) {
            out.add(Finding.unhealthy(name(), "NVLINK_DOWN", "NVLink link" + (down.size() > 1 ? "s " : " ") + down
                            + " went down (up before)",
                    "drain the GPU and reset it (and its peers on the link); inspect the NVLink/NVSwitch hardware if it stays down",
                    DRAIN_AND_RESET));
        }
        double replayRecovery = sum(sample, Reading.NVLINK_REPLAY_ERRORS, Reading.NVLINK_RECOVERY_ERRORS);
        if (!Double.isNaN(replayRecovery)) {
            double increase = errors.computeIfAbsent(gpu, k -> new RateWindow(window)).add(now, replayRecovery);
            if (increase > RateWindow.budget(window, errorsPerMinute)) {
                out.add(Finding.degraded(name(), "NVLINK_ERROR_RATE", (long) increase + " NVLink replay/recovery errors in the last "
                        + window.toSeconds() + " s (limit " + errorsPerMinute + " per minute)",
                        "watch the links (nvidia-smi nvlink -e); reset the GPU at the next idle moment if it keeps up"));
            }
        }
        double crcErrors = sum(sample, Reading.NVLINK_CRC_FLIT_ERRORS, Reading.NVLINK_CRC_DATA_ERRORS);
        if (!Double.isNaN(crcErrors)) {
            double increase = crc.computeIfAbsent(gpu, k -> new RateWindow(window)).add(now, crcErrors);
            if (increase > RateWindow.budget(window, crcPerSecond * 60)) {
                out.add(Finding.degraded(name(), "NVLINK_CRC_RATE", (long) increase + " NVLink CRC errors in the last "
                        + window.toSeconds() + " s (limit " + crcPerSecond + " per second)",
                        "watch the links (nvidia-smi nvlink -e); inspect the NVLink cabling/NVSwitch if it keeps up"));
            }
        }
        return out;
    }

    /** The sum of the readings present; NaN when none is. */
    private static double sum(GpuSample sample, Reading a, Reading b) {
        double x = sample.raw(a);
        double y = sample.raw(b);
        return Double.isNaN(x) ? y : Double.isNaN(y) ? x : x + y;
    }

    @Override
    public void forget(String gpu) {
        wasUp.remove(gpu);
        errors.remove(gpu);
        crc.remove(gpu);
    }
}
