package io.gpuagent.agent.journal;

/**
 * Which events a reader of the history wants: all (every field null), or one device's. A GPU (by index and/or
 * UUID) matches its own events and its MIG devices' (those carry their GPU's index and UUID); a MIG device
 * matches by its {@code MIG-} UUID, or by its address, which names whichever MIG device had it when the event
 * was written (GPU instance ids are reused after a reconfiguration: follow one MIG device by its UUID).
 * Node-level events match no device filter.
 */
public record EventFilter(Integer gpu, String uuid, String migUuid, String migAddress) {

    /** Every event. */
    public static final EventFilter ALL = new EventFilter(null, null, null, null);

    /** One GPU's events (and its MIG devices') by index and/or UUID; both null: every event. */
    public static EventFilter of(Integer gpu, String uuid) {
        return gpu == null && uuid == null ? ALL : new EventFilter(gpu, uuid, null, null);
    }

    public boolean matches(AgentEvent e) {
        return (gpu == null || gpu.equals(e.gpu())) && (uuid == null || uuid.equals(e.uuid()))
                && (migUuid == null || migUuid.equals(e.migUuid()))
                && (migAddress == null || migAddress.equals(e.migAddress()));
    }
}
