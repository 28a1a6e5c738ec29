package io.gpuagent.agent.recovery;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/**
 * One step of a recovery action, as docs/recovery.md#steps describes it. Each is idempotent, bounded in time and audited;
 * {@link #label()} is its name in the audit log, the API, the policy and {@code gpu_agent_actions_total}.
 */
public enum Step {
    /** The line that opens and closes one whole action (an API request or a policy plan). */
    REQUEST,
    CORDON,
    UNCORDON,
    /** Cordon, tell the coordinator, wait for the lease to end and the processes to exit (or the deadline). */
    DRAIN,
    /** SIGTERM, grace, SIGKILL; only PIDs NVML reports on the GPU, never the agent or PID 1. */
    TERMINATE,
    /** The reset command; only when drained and idle; rate-limited. Always followed by {@link #VERIFY}. */
    RESET,
    /** The GPU reads OK again after a reset: its repaired reasons go, it is uncordoned if recovery cordoned it. */
    VERIFY,
    /** Lower the power limit under sustained thermal stress. */
    POWER_CAP,
    /** Put back the power limit {@link #POWER_CAP} lowered. */
    POWER_RESTORE,
    /** Reset locked GPU, memory and application clocks. */
    RESET_CLOCKS,
    /** Ask for a node reboot: metric, event, and the reboot command if one is configured. */
    REQUEST_REBOOT,
    /** The GPU stays cordoned for a person to inspect; no further automatic action. */
    INSPECT_HARDWARE,
    /** An operator clear of the GPU's health state. */
    CLEAR,
    /**
     * A DCGM diagnostic on a drained GPU (cordoned, no processes): {@code POST /v1/gpus/{id}/diag}. Needs DCGM on
     * (docs/dcgm.md).
     */
    DIAGNOSE;

    @JsonValue
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Reads {@link #label()} back, as the audit log writes it (every step, {@code request} included). */
    @JsonCreator
    public static Step ofLabel(String label) {
        for (Step s : values()) {
            if (s.label().equals(label)) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown recovery step '" + label + "' in the audit log");
    }

    /** Parses {@code reset}, {@code request-reboot}, {@code REQUEST_REBOOT}. */
    public static Step parse(String text) {
        String t = text.strip().toUpperCase(Locale.ROOT).replace('-', '_');
        for (Step s : values()) {
            if (s.name().equals(t) && s != REQUEST && s != VERIFY) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown recovery step '" + text.strip() + "'; use one of cordon, uncordon, "
                + "drain, terminate, reset (verify follows it), power_cap, power_restore, reset_clocks, request_reboot, "
                + "inspect_hardware, clear, diagnose");
    }
}
