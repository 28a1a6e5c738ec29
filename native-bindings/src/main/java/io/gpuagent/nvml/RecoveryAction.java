package io.gpuagent.nvml;

/** {@code nvmlDeviceGpuRecoveryAction_t}, read through field {@link FieldIds#GET_GPU_RECOVERY_ACTION}. */
public enum RecoveryAction {
    NONE, GPU_RESET, NODE_REBOOT, DRAIN_P2P, DRAIN_AND_RESET, RECOVER_IMEX_DOMAIN, UNRECOGNIZED;

    public static RecoveryAction of(long code) {
        return code >= 0 && code < UNRECOGNIZED.ordinal() ? values()[(int) code] : UNRECOGNIZED;
    }
}
