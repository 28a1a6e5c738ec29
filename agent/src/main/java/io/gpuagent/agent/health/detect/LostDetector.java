package io.gpuagent.agent.health.detect;

import static io.gpuagent.agent.health.detect.RepairAction.REBOOT;

import io.gpuagent.exporter.GpuSample;
import io.gpuagent.nvml.EventTypes;
import io.gpuagent.nvml.GpuEvent;
import java.time.Instant;
import java.util.List;

/**
 * A GPU the driver lost (GPU_IS_LOST on a call, or its index gone from the device count) is LOST until it
 * reads OK again for the hysteresis window; a GPU whose read hangs past its deadline is DEGRADED (its values
 * are old). XID 79 is the xid detector's (sticky). The node-level "GPU count dropped" is in /health itself.
 */
public record LostDetector() implements Detector {

    private static final String LOST_ACTION = "drain the node and reboot it; if it repeats, inspect the GPU hardware";

    @Override
    public String name() {
        return "lost";
    }

    @Override
    public boolean needsFreshReadings() {
        return false;
    }

    @Override
    public List<Finding> evaluate(String gpu, GpuSample sample, Instant now) {
        return switch (sample.status()) {
            case OK -> List.of();
            case STALE -> sample.isReleased() ? List.of() : List.of(Finding.degraded(name(), "READINGS_STALE", "readings are stale: " + sample.statusReason(),
                    "an NVML call on this GPU is hanging; check dmesg for XIDs and nvidia-smi for this GPU"));
            case LOST -> List.of(lost("GPU_IS_LOST", "GPU is lost: " + sample.statusReason()));
        };
    }

    @Override
    public List<Finding> onEvent(String gpu, GpuEvent event, Instant now) {
        return event.eventType() == EventTypes.GPU_UNAVAILABLE_ERROR
                ? List.of(lost("GPU_UNAVAILABLE", "the driver reports the GPU unavailable"))
                : List.of();
    }

    private Finding lost(String code, String message) {
        return new Finding(name(), code, HealthState.LOST, false, message, LOST_ACTION, List.of(REBOOT));
    }
}
