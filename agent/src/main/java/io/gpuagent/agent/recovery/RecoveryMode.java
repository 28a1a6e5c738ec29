package io.gpuagent.agent.recovery;

/** Whether the recovery engine acts by itself ({@code gpu-agent.recovery.mode}). */
public enum RecoveryMode {
    /** Detect, recommend and record; change nothing by itself (the global dry-run switch). */
    OBSERVE,
    /** Act by the policy, within the rails. */
    ENFORCE
}
