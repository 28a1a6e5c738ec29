package io.gpuagent.agent.health;

import io.gpuagent.agent.health.detect.XidClass;
import io.gpuagent.agent.health.detect.XidDetector;
import io.gpuagent.agent.journal.AgentEvent;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Repeats of a warning-class XID (13, 31, 43, 45: the application's fault, one job can raise thousands) on
 * one GPU: the first is recorded at once, the rest of its window only counted, then one summary event per
 * window carries the count. So a burst costs a handful of fsynced events and log lines instead of one each,
 * and cannot push fatal events out of the history. The XID counter metric counts every one regardless. An XID
 * judged on a MIG device has its own windows (its MIG UUID's), so a job flooding one instance hides no other's.
 * Not thread-safe: {@link HealthModel} calls it under its lock.
 */
final class XidCoalescer {

    /** {@code device}: the GPU's UUID, or the MIG device's for an XID judged on one. */
    private record Key(String device, int xid) {
    }

    private static final class Window {
        final int index;
        final String gpuUuid;
        final String migUuid;      // null for an XID judged on the GPU
        final String migAddress;
        final XidClass xidClass;
        Instant started;
        int suppressed;

        Window(int index, String gpuUuid, String migUuid, String migAddress, XidClass xidClass, Instant started) {
            this.index = index;
            this.gpuUuid = gpuUuid;
            this.migUuid = migUuid;
            this.migAddress = migAddress;
            this.xidClass = xidClass;
            this.started = started;
        }

        String device() {
            return migUuid == null ? "GPU " + index + " (" + gpuUuid + ")"
                    : "MIG device " + migAddress + " (" + migUuid + ") of GPU " + index + " (" + gpuUuid + ")";
        }
    }

    private Duration window;
    private final Map<Key, Window> windows = new HashMap<>();   // at most GPUs x warning codes seen lately

    XidCoalescer(Duration window) {
        this.window = window;
    }

    /** A new window from a configuration reload: windows already open end by the new length. */
    void window(Duration window) {
        this.window = window;
    }

    /**
     * True when this XID is to be recorded now; false when it only counts toward its window's summary.
     * {@code migUuid} and {@code migAddress}: the MIG device it was judged on, null when on the GPU.
     */
    boolean admit(int index, String uuid, String migUuid, String migAddress, int xid, XidClass xidClass, Instant now) {
        Key key = new Key(migUuid == null ? uuid : migUuid, xid);
        Window w = windows.get(key);
        if (w == null) {
            windows.put(key, new Window(index, uuid, migUuid, migAddress, xidClass, now));
            return true;
        }
        w.suppressed++;
        return false;
    }

    /**
     * The summaries of windows that ended by {@code now}; a window with repeats starts again (at most one
     * summary per window), a quiet one is dropped (the next XID is recorded at once).
     */
    List<AgentEvent> due(Instant now) {
        List<AgentEvent> out = new ArrayList<>();
        for (Iterator<Map.Entry<Key, Window>> it = windows.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Key, Window> e = it.next();
            Window w = e.getValue();
            if (w.started.plus(window).isAfter(now)) {
                continue;
            }
            if (w.suppressed == 0) {
                it.remove();
                continue;
            }
            Key k = e.getKey();
            AgentEvent summary = AgentEvent.of(w.index, w.gpuUuid, AgentEvent.XID, "xid", Integer.toString(k.xid()),
                    "XID " + k.xid() + " (" + XidDetector.meaning(k.xid()) + ") on " + w.device()
                            + " repeated " + w.suppressed + " more time(s) since "
                            + w.started + ", classed " + w.xidClass.name().toLowerCase() + "; repeats within "
                            + window.toSeconds() + " s are summed up in one event (gpu_agent_xid_errors_total counts each)");
            out.add(w.migUuid == null ? summary : summary.withMig(w.migUuid, w.migAddress));
            w.started = now;
            w.suppressed = 0;
        }
        return out;
    }

    /**
     * A cleared or vanished GPU or MIG device ({@code uuid}) starts afresh: its next XID is recorded at once. A
     * GPU's MIG devices start afresh with it.
     */
    void forget(String uuid) {
        windows.entrySet().removeIf(e -> e.getKey().device().equals(uuid) || e.getValue().gpuUuid.equals(uuid));
    }
}
