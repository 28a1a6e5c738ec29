package io.gpuagent.agent.health.detect;

import io.gpuagent.exporter.GpuSample;
import io.gpuagent.nvml.EventTypes;
import io.gpuagent.nvml.GpuEvent;
import io.gpuagent.nvml.RecoveryAction;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The driver's own recovery hint (field 230 on 565+ drivers, and the recovery-action event): UNHEALTHY and
 * sticky when it asks for a reset or a reboot (the hint goes back to none after the reset, the reason stays
 * until a clear or a recovery records it), DEGRADED for the milder hints. A missing or failing NVML is a
 * node-level problem of /health, not a GPU's.
 */
public record DriverDetector() implements Detector {

    @Override
    public String name() {
        return "driver";
    }

    @Override
    public List<Finding> evaluate(String gpu, GpuSample sample, Instant now) {
        Optional<RecoveryAction> hint = sample.recoveryAction();
        return hint.isPresent() ? judge(hint.get()) : List.of();
    }

    @Override
    public List<Finding> onEvent(String gpu, GpuEvent event, Instant now) {
        return event.eventType() == EventTypes.GPU_RECOVERY_ACTION ? judge(RecoveryAction.of(event.eventData())) : List.of();
    }

    List<Finding> judge(RecoveryAction hint) {
        String code = "DRIVER_" + hint.name();
        String says = "the driver recommends " + hint.name().toLowerCase() + " (recovery action field)";
        return switch (hint) {
            case NONE -> List.of();
            case GPU_RESET -> List.of(Finding.unhealthy(name(), code, says, "drain the GPU and reset it",
                    RepairAction.RESET_GPU).asSticky());
            case DRAIN_AND_RESET -> List.of(Finding.unhealthy(name(), code, says, "drain the GPU and reset it",
                    RepairAction.DRAIN_AND_RESET).asSticky());
            case NODE_REBOOT -> List.of(Finding.unhealthy(name(), code, says, "drain the node and reboot it",
                    RepairAction.REBOOT).asSticky());
            case DRAIN_P2P -> List.of(Finding.degraded(name(), code, says,
                    "stop peer-to-peer traffic to this GPU (drain its jobs)", RepairAction.DRAIN_P2P));
            case RECOVER_IMEX_DOMAIN -> List.of(Finding.degraded(name(), code, says,
                    "recover the IMEX domain (nvidia-imex)", RepairAction.RECOVER_IMEX_DOMAIN));
            case UNRECOGNIZED -> List.of(Finding.degraded(name(), code, "the driver recommends a recovery action this agent "
                    + "does not know", "check nvidia-smi -q and the driver's release notes"));
        };
    }
}
