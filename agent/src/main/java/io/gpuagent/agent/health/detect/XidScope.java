package io.gpuagent.agent.health.detect;

/**
 * Where an XID lands on a GPU in MIG mode (docs/faults.md#mig); configurable per code with
 * {@code gpu-agent.health.xid-scope.<code>}. On a GPU not in MIG mode every XID is the GPU's.
 */
public enum XidScope {
    /** The whole GPU, and so every MIG device on it, whatever instance the driver's event names. */
    GPU,
    /**
     * The MIG device(s) the driver's event names (a GPU instance: every compute instance of it; a GPU and a
     * compute instance: that one), not their siblings; the whole GPU when the event names none.
     */
    INSTANCE
}
