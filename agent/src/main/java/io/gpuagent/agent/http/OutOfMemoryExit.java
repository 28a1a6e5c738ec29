package io.gpuagent.agent.http;

import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.LogRecord;
import org.jboss.logging.Logger;

/**
 * An {@link OutOfMemoryError} thrown by library code ends the process as a heap one does. The launcher's
 * {@code -XX:+ExitOnOutOfMemoryError} covers only what the JVM throws; the JDK's "Cannot reserve ... direct buffer
 * memory" and Netty's {@code OutOfDirectMemoryError} are thrown by Java code, and Netty and Vert.x catch them:
 * the write fails, the connection is dropped or a 500 is logged, and the agent goes on with its buffers spent
 * (seen: 576 of them in a row and no exit). So every place they surface halts:
 * <ul>
 *   <li>Vert.x's exception handler (a handler that threw on an event loop);</li>
 *   <li>the router's failure handlers (a route or JAX-RS resource that threw, before Quarkus answers 500);</li>
 *   <li>each connection's exception handler, set by {@link ConnectionCap} (Netty's pipeline: a failed write,
 *       an encoder);</li>
 *   <li>our own write completions ({@link MetricsRoute});</li>
 *   <li>any log record carrying one, whoever logs it (the net under the others).</li>
 * </ul>
 * It exits with status 3, as {@code ExitOnOutOfMemoryError} does, after one log line; systemd restarts it.
 */
@ApplicationScoped
public class OutOfMemoryExit {

    private static final Logger LOG = Logger.getLogger(OutOfMemoryExit.class);
    /** What {@code -XX:+ExitOnOutOfMemoryError} exits with. */
    static final int STATUS = 3;
    private static final AtomicBoolean EXITING = new AtomicBoolean();

    void onStart(@Observes StartupEvent start, Vertx vertx) {
        Handler<Throwable> previous = vertx.exceptionHandler();
        vertx.exceptionHandler(t -> {
            exitIfOutOfMemory(t);
            if (previous != null) {
                previous.handle(t);
            }
        });
        java.util.logging.Logger.getLogger("").addHandler(new java.util.logging.Handler() {
            @Override
            public void publish(LogRecord record) {
                if (record.getThrown() != null) {
                    exitIfOutOfMemory(record.getThrown());
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        });
    }

    void register(@Observes Router router) {
        router.route().order(Integer.MIN_VALUE).failureHandler(rc -> {
            exitIfOutOfMemory(rc.failure());
            rc.next();
        });
    }

    /** Halts the process when {@code t}, or anything it wraps, is an {@link OutOfMemoryError}. */
    public static void exitIfOutOfMemory(Throwable t) {
        Throwable oom = outOfMemory(t);
        if (oom != null) {
            exit(oom);
        }
    }

    /** The {@link OutOfMemoryError} in {@code t}'s causes and suppressed exceptions, or null. */
    static Throwable outOfMemory(Throwable t) {
        Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        return find(t, seen);
    }

    private static Throwable find(Throwable t, Set<Throwable> seen) {
        if (t == null || !seen.add(t) || seen.size() > 32) {
            return null;
        }
        if (t instanceof OutOfMemoryError) {
            return t;
        }
        for (Throwable s : t.getSuppressed()) {
            Throwable found = find(s, seen);
            if (found != null) {
                return found;
            }
        }
        return find(t.getCause(), seen);
    }

    private static void exit(Throwable oom) {
        if (!EXITING.compareAndSet(false, true)) {
            return;   // another thread is halting already
        }
        // No throwable on the record: the log handler above would see it again. The message is all we need.
        String line = "out of memory (" + oom + "); exiting with status " + STATUS + " so that systemd restarts the "
                + "agent. Direct memory is bounded by -XX:MaxDirectMemorySize in /etc/gpu-agent/environment; if this "
                + "repeats without many slow clients, raise it (docs/security.md, Connections and memory)";
        try {
            LOG.fatal(line);
        } finally {
            System.err.println("gpu-agent: " + line);
            System.err.flush();
            Runtime.getRuntime().halt(STATUS);
        }
    }
}
