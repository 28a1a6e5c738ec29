package io.gpuagent.agent.auth;

import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Log lines about refused requests, at most one per kind per period; the next one says how many were not
 * logged meanwhile. Anyone who can reach the port can be refused, so without this a client sending bad
 * tokens in a loop grows the log without limit (10,000 malformed requests wrote 449 lines). The refusals
 * themselves are answered as before; only their log lines are thinned. Every place that logs a refused
 * client (authentication here, the event stream's bounds in {@code http/EventStreamRoute}) goes through one.
 */
public final class RefusalLog {

    /** What was refused; one window each. */
    public enum Kind {
        FORBIDDEN, HEARTBEAT_NO_CREDENTIAL, HEARTBEAT_WRONG_TOKEN, UNUSABLE_CREDENTIAL, CLIENT_CERTIFICATE,
        /** A heartbeat under a node name bound to another agentUrl. */
        HEARTBEAT_MOVED,
        /** A connection past gpu-agent.http.max-connections-per-address. */
        CONNECTIONS_PER_ADDRESS,
        /** An event-stream client beyond the stream's slots (all, or those of its address). */
        EVENT_STREAM_FULL,
        /** An event-stream client cut off for reading too slowly or falling out of the history. */
        EVENT_STREAM_CUT_OFF
    }

    static final Duration PERIOD = Duration.ofMinutes(1);

    private final LongSupplier nanoTime;
    private final Consumer<String> sink;
    private final Map<Kind, Window> windows = new EnumMap<>(Kind.class);   // guarded by this

    private static final class Window {
        long startedNanos;
        long suppressed;
    }

    public RefusalLog(LongSupplier nanoTime, Consumer<String> sink) {
        this.nanoTime = nanoTime;
        this.sink = sink;
    }

    public void warn(Kind kind, String message) {
        long now = nanoTime.getAsLong();
        long suppressed;
        synchronized (this) {
            Window w = windows.get(kind);
            if (w != null && now - w.startedNanos < PERIOD.toNanos()) {
                w.suppressed++;
                return;
            }
            if (w == null) {
                w = new Window();
                windows.put(kind, w);
            }
            suppressed = w.suppressed;
            w.startedNanos = now;
            w.suppressed = 0;
        }
        sink.accept(suppressed == 0 ? message : message + " (" + suppressed + " more refusals like it in the last "
                + PERIOD.toSeconds() + " s were not logged)");
    }
}
