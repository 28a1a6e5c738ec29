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
 * and cannot push fatal events out of the history. The XID counter metric counts every one regardless.
 * Not thread-safe: {@link HealthModel} calls it under its lock.
 */
final class XidCoalescer {

    private record Key(String uuid, int xid) {
    }

    private static final class Window {
        final int index;
        final XidClass xidClass;
        Instant started;
        int suppressed;

        Window(int index, XidClass xidClass, Instant started) {
            this.index = index;
            this.xidClass = xidClass;
            this.started = started;
        }
    }

    private final Duration window;
    private final Map<Key, Window> windows = new HashMap<>();   // at most GPUs x warning codes seen lately

    XidCoalescer(Duration window) {
        this.window = window;
    }

    /** True when this XID is to be recorded now; false when it only counts toward its window's summary. */
    boolean admit(int index, String uuid, int xid, XidClass xidClass, Instant now) {
        Window w = windows.get(new Key(uuid, xid));
        if (w == null) {
            windows.put(new Key(uuid, xid), new Window(index, xidClass, now));
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
            out.add(AgentEvent.of(w.index, k.uuid(), AgentEvent.XID, "xid", Integer.toString(k.xid()),
                    "XID " + k.xid() + " (" + XidDetector.meaning(k.xid()) + ") on GPU "
                            + w.index + " (" + k.uuid() + ") repeated " + w.suppressed + " more time(s) since "
                            + w.started + ", classed " + w.xidClass.name().toLowerCase() + "; repeats within "
                            + window.toSeconds() + " s are summed up in one event (gpu_agent_xid_errors_total counts each)"));
            w.started = now;
            w.suppressed = 0;
        }
        return out;
    }

    /** A cleared or vanished GPU starts afresh: its next XID is recorded at once. */
    void forget(String uuid) {
        windows.keySet().removeIf(k -> k.uuid().equals(uuid));
    }
}
