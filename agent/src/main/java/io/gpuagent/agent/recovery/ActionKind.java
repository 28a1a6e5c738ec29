package io.gpuagent.agent.recovery;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/**
 * What an action was asked to do: the {@code action} of its audit lines, of {@code GET /v1/actions} and of
 * {@code gpu_agent_actions_total}. Written as {@link #label()}.
 */
public enum ActionKind {
    /** A policy plan for a fault. */
    RECOVER,
    /** Lifting a power cap once the GPU is HEALTHY again. */
    POWER_RESTORE,
    CORDON,
    UNCORDON,
    DRAIN,
    RESET,
    /** An operator clear of the GPU's health state. */
    CLEAR,
    /** An operator closing the node breaker. */
    BREAKER_RESET,
    /** An operator's DCGM diagnostic of a drained GPU. */
    DIAGNOSE;

    @JsonValue
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    @JsonCreator
    public static ActionKind of(String label) {
        for (ActionKind k : values()) {
            if (k.label().equals(label)) {
                return k;
            }
        }
        throw new IllegalArgumentException("unknown action '" + label + "'");
    }

    /** The action an operator request for {@code step} is. */
    static ActionKind of(Step step) {
        return switch (step) {
            case CORDON -> CORDON;
            case UNCORDON -> UNCORDON;
            case DRAIN -> DRAIN;
            case RESET -> RESET;
            case CLEAR -> CLEAR;
            case DIAGNOSE -> DIAGNOSE;
            default -> throw new IllegalStateException("no operator action runs step " + step.label());
        };
    }
}
