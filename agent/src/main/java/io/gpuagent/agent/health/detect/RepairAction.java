package io.gpuagent.agent.health.detect;

import java.util.Locale;

/**
 * What to do about a GPU, mildest first: the actions a reason suggests (docs/faults.md#repair-advice), which the recovery engine
 * consumes and {@code gpu_agent_recovery_action_recommended{action}} exports. The driver's own hint (field
 * 230, {@link io.gpuagent.nvml.RecoveryAction}) maps onto the same names.
 */
public enum RepairAction {
    /** Nothing to do (only used as the metric's label when no action is suggested). */
    NONE,
    /** The application misbehaved (XID 13, 31, 43, 45, 94): check or restart it; the GPU is fine. */
    CHECK_APPLICATION,
    /** Reset the GPU at the next idle moment (e.g. to apply a pending page retirement). */
    RESET_GPU,
    /** Drain the GPU's work, then reset it. */
    DRAIN_AND_RESET,
    /** The driver asks to drain peer-to-peer traffic (field 230 DRAIN_P2P). */
    DRAIN_P2P,
    /** The driver asks to recover the IMEX domain (field 230 RECOVER_IMEX_DOMAIN). */
    RECOVER_IMEX_DOMAIN,
    /** Drain the node and reboot it. */
    REBOOT,
    /** Have the hardware inspected (cooling, PCIe/NVLink cabling, RMA). */
    INSPECT_HARDWARE;

    /** The metric label: {@code drain_and_reset}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
