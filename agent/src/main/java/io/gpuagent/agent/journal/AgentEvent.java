package io.gpuagent.agent.journal;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Instant;
import java.util.List;

/**
 * One entry of the event history (faults, state changes, actions): a line in {@code events.jsonl} and an
 * item of {@code /v1/events}.
 *
 * @param id            assigned by {@link EventLog#append}: increasing, never reused, survives restarts
 * @param time          when it happened; {@link EventLog#append} fills in the current time when null
 * @param gpu           GPU index, null for a node-level event
 * @param uuid          GPU UUID, null for a node-level event; for an event of a MIG device, its GPU's
 * @param migUuid       the MIG device's {@code MIG-...} UUID for an event of a MIG device, else null (absent from
 *                      lines written before MIG devices had events: they read as null)
 * @param migAddress    the MIG device's address ({@code <gpu>/<gi>} or {@code <gpu>/<gi>/<ci>}) when
 *                      {@code migUuid} is set, else null
 * @param kind          {@link #XID}, {@link #STATE}, {@link #NVML}, {@link #ACTION}, ...
 * @param detector      the detector or component that reported it (e.g. {@code xid}, {@code ecc})
 * @param code          machine-readable code: {@code 79} for an XID, {@code UNHEALTHY} for a state, ...
 * @param state         the new state of a state change, else null
 * @param previousState the state before a state change, else null
 * @param message       a sentence for a person
 * @param pods          the containers the kubelet said held the device (the MIG device, else the GPU) when the event
 *                      was logged, at most {@link #MAX_PODS}; null without pod attribution, for node-level events and
 *                      in lines written before events had pods
 */
public record AgentEvent(long id, Instant time, Integer gpu, String uuid, String migUuid, String migAddress, String kind,
                         String detector, String code, String state, String previousState, String message,
                         @JsonInclude(JsonInclude.Include.NON_NULL) List<Pod> pods) {

    /** The most containers one event names (time-slicing can put many on one GPU). */
    public static final int MAX_PODS = 8;

    /** A container that held the event's device: the names dcgm-exporter puts on its series. */
    public record Pod(String namespace, String pod, String container) {
    }

    public AgentEvent {
        pods = pods == null ? null : List.copyOf(pods.subList(0, Math.min(pods.size(), MAX_PODS)));
    }

    /** An event without pods. */
    public AgentEvent(long id, Instant time, Integer gpu, String uuid, String migUuid, String migAddress, String kind,
                      String detector, String code, String state, String previousState, String message) {
        this(id, time, gpu, uuid, migUuid, migAddress, kind, detector, code, state, previousState, message, null);
    }

    public static final String XID = "xid";
    public static final String STATE = "state";
    public static final String NVML = "nvml";
    public static final String ACTION = "action";

    /** An event to hand to {@link EventLog#append}, which assigns the id and the time. */
    public static AgentEvent of(Integer gpu, String uuid, String kind, String detector, String code, String message) {
        return new AgentEvent(0, null, gpu, uuid, null, null, kind, detector, code, null, null, message);
    }

    /** A health state change of one GPU (or of the node, with gpu and uuid null). */
    public static AgentEvent stateChange(Integer gpu, String uuid, String detector, String code, String state,
                                         String previousState, String message) {
        return new AgentEvent(0, null, gpu, uuid, null, null, STATE, detector, code, state, previousState, message);
    }

    /** This event as one of the MIG device {@code newMigUuid} at {@code newMigAddress} ({@code gpu}/{@code uuid}: its GPU's). */
    public AgentEvent withMig(String newMigUuid, String newMigAddress) {
        return new AgentEvent(id, time, gpu, uuid, newMigUuid, newMigAddress, kind, detector, code, state, previousState,
                message, pods);
    }

    public AgentEvent withId(long newId) {
        return new AgentEvent(newId, time, gpu, uuid, migUuid, migAddress, kind, detector, code, state, previousState,
                message, pods);
    }

    public AgentEvent withTime(Instant newTime) {
        return new AgentEvent(id, newTime, gpu, uuid, migUuid, migAddress, kind, detector, code, state, previousState,
                message, pods);
    }

    /** This event naming the containers that held its device ({@code null} or empty: none). */
    public AgentEvent withPods(List<Pod> newPods) {
        return new AgentEvent(id, time, gpu, uuid, migUuid, migAddress, kind, detector, code, state, previousState,
                message, newPods == null || newPods.isEmpty() ? null : newPods);
    }
}
