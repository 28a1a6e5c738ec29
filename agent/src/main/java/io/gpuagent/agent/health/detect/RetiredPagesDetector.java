package io.gpuagent.agent.health.detect;

import static io.gpuagent.agent.health.detect.RepairAction.INSPECT_HARDWARE;
import static io.gpuagent.agent.health.detect.RepairAction.RESET_GPU;

import io.gpuagent.exporter.GpuSample;
import io.gpuagent.exporter.Reading;
import io.gpuagent.nvml.EventTypes;
import io.gpuagent.nvml.GpuEvent;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** Page retirement (pre-Ampere memory repair): DEGRADED while pending, UNHEALTHY over the retired-page limit. */
public record RetiredPagesDetector(int limit) implements Detector {

    @Override
    public String name() {
        return "retired-pages";
    }

    @Override
    public List<Finding> evaluate(String gpu, GpuSample sample, Instant now) {
        List<Finding> out = new ArrayList<>(0);
        if (sample.valueOr(Reading.RETIRED_PAGES_PENDING, 0) > 0) {
            out.add(pending("a page retirement is pending"));
        }
        double sbe = sample.raw(Reading.RETIRED_PAGES_SBE);
        double dbe = sample.raw(Reading.RETIRED_PAGES_DBE);
        if (!Double.isNaN(sbe) || !Double.isNaN(dbe)) {
            long total = (long) ((Double.isNaN(sbe) ? 0 : sbe) + (Double.isNaN(dbe) ? 0 : dbe));
            if (total > limit) {
                out.add(Finding.unhealthy(name(), "RETIRED_PAGES_LIMIT", total + " pages retired (single-bit "
                        + (long) (Double.isNaN(sbe) ? 0 : sbe) + ", double-bit " + (long) (Double.isNaN(dbe) ? 0 : dbe)
                        + "), over the limit of " + limit, "drain the GPU and have the hardware inspected (RMA)",
                        INSPECT_HARDWARE));
            }
        }
        return out;
    }

    @Override
    public List<Finding> onEvent(String gpu, GpuEvent event, Instant now) {
        return event.eventType() == EventTypes.DRAM_RETIREMENT_EVENT
                ? List.of(pending("the driver retired a memory page"))
                : List.of();
    }

    private Finding pending(String message) {
        return Finding.degraded(name(), "RETIRED_PAGES_PENDING", message,
                "reset the GPU at the next idle moment to apply the retirement", RESET_GPU);
    }
}
