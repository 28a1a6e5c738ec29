package io.gpuagent.agent.health.detect;

import static io.gpuagent.agent.health.detect.RepairAction.DRAIN_AND_RESET;
import static io.gpuagent.agent.health.detect.RepairAction.INSPECT_HARDWARE;

import io.gpuagent.exporter.GpuSample;
import io.gpuagent.exporter.Reading;
import io.gpuagent.nvml.EventTypes;
import io.gpuagent.nvml.GpuEvent;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** Row remapping: UNHEALTHY (sticky) while a remap is pending (needs a reset) or after a remap failure. */
public record RemapDetector() implements Detector {

    @Override
    public String name() {
        return "remap";
    }

    @Override
    public List<Finding> evaluate(String gpu, GpuSample sample, Instant now) {
        List<Finding> out = new ArrayList<>(0);
        if (sample.valueOr(Reading.ROW_REMAP_PENDING, 0) > 0) {
            out.add(Finding.unhealthy(name(), "ROW_REMAP_PENDING", "a memory row remap is pending: the GPU needs a reset to apply it",
                    "drain the GPU and reset it to apply the remap", DRAIN_AND_RESET).asSticky());
        }
        if (sample.valueOr(Reading.ROW_REMAP_FAILURE, 0) > 0) {
            out.add(failure("row remapping failed: the GPU has no spare rows left for a bad memory row"));
        }
        return out;
    }

    @Override
    public List<Finding> onEvent(String gpu, GpuEvent event, Instant now) {
        return event.eventType() == EventTypes.DRAM_RETIREMENT_FAILURE
                ? List.of(failure("the driver reports a memory retirement failure"))
                : List.of();
    }

    private Finding failure(String message) {
        return Finding.unhealthy(name(), "ROW_REMAP_FAILURE", message,
                "drain the GPU and reset it; have the hardware inspected (RMA)", DRAIN_AND_RESET, INSPECT_HARDWARE).asSticky();
    }
}
