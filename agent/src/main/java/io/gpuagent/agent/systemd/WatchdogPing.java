package io.gpuagent.agent.systemd;

import java.util.function.Consumer;
import org.jboss.logging.Logger;

/**
 * {@code WATCHDOG=1} only when both halves of the agent make progress: the sampler published a sweep since the
 * last ping ({@link #swept}, called on the sampler thread, never blocks), and the agent's own HTTP server then
 * answered a {@link HttpSelfProbe} within its deadline. A wedged sampler or a wedged server (event loops
 * blocked, the acceptor stalled, threads exhausted) stops the pings, and systemd restarts the agent after
 * {@code WatchdogSec}. The probe runs here, on the thread {@code watchdog-probe}, one at a time: never on
 * the sampler thread nor on an event loop; sweeps that come while a probe runs are answered by the next one.
 */
final class WatchdogPing implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(WatchdogPing.class);

    private final HttpSelfProbe probe;
    private final Consumer<String> send;
    private final Thread thread;
    private boolean swept;          // guarded by this: a sweep was published since the last probe began
    private boolean closed;         // guarded by this
    private boolean failing;        // the probe thread's: one warning per run of failed probes

    /** {@code send} delivers one notify message ({@code WATCHDOG=1}). */
    WatchdogPing(HttpSelfProbe probe, Consumer<String> send) {
        this.probe = probe;
        this.send = send;
        this.thread = Thread.ofPlatform().name("watchdog-probe").daemon().start(this::run);
    }

    /** A sweep was published: probe the server, and ping if it answers. */
    synchronized void swept() {
        swept = true;
        notifyAll();
    }

    private void run() {
        try {
            while (awaitSweep()) {
                if (probe.probe()) {
                    send.accept("WATCHDOG=1");
                    if (failing) {
                        LOG.infof("the HTTP server answers its watchdog probe again (%s); WATCHDOG=1 resumed", probe.target());
                    }
                    failing = false;
                } else if (!failing) {
                    failing = true;
                    LOG.warnf("the HTTP server did not answer its watchdog probe (GET %s on %s: %s): no WATCHDOG=1 until "
                            + "it does; systemd restarts the agent after WatchdogSec. If it persists, look for blocked "
                            + "event loops (vertx-blocked-thread-checker warnings) and thread or memory exhaustion",
                            HttpSelfProbe.PATH, probe.target(), probe.lastFailure());
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            probe.close();
        }
    }

    private synchronized boolean awaitSweep() throws InterruptedException {
        while (!swept && !closed) {
            wait();
        }
        swept = false;
        return !closed;
    }

    @Override
    public void close() {
        synchronized (this) {
            closed = true;
            notifyAll();
        }
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
