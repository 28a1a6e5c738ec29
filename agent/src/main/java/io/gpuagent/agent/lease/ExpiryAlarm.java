package io.gpuagent.agent.lease;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.jboss.logging.Logger;

/**
 * Runs a task when the earliest lease expires, on one platform thread that sleeps until then (or until told
 * of an earlier expiry) and not at all while no lease is live: an idle node pays nothing for lease expiry,
 * where a once-a-second tick cost two threads' work at rest (BENCHMARKS.md). Expiry is checked again at
 * every grant, heartbeat and release anyway; this only frees a lease nobody touches.
 */
final class ExpiryAlarm implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(ExpiryAlarm.class);

    private final Clock clock;
    private final Runnable task;
    private final Thread thread;
    private Instant due;        // guarded by this; null: nothing to wait for
    private boolean closed;     // guarded by this

    ExpiryAlarm(Clock clock, Runnable task) {
        this.clock = clock;
        this.task = task;
        this.thread = Thread.ofPlatform().name("lease-expiry").daemon().unstarted(this::run);
        thread.start();
    }

    /** The next expiry, or null when no lease is live. Replaces the one set before. */
    synchronized void wakeAt(Instant when) {
        due = when;
        notifyAll();
    }

    private void run() {
        while (awaitDue()) {
            try {
                task.run();
            } catch (RuntimeException e) {
                LOG.errorf(e, "expiring leases failed; it is tried again at the next lease change");
            }
        }
    }

    /** Waits until {@link #due} has passed (then clears it and answers true) or the alarm is closed. */
    private synchronized boolean awaitDue() {
        try {
            while (!closed) {
                if (due == null) {
                    wait();
                    continue;
                }
                long ms = Duration.between(clock.instant(), due).toMillis();
                if (ms < 0) {
                    due = null;
                    return true;
                }
                wait(ms + 1);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return false;
    }

    @Override
    public void close() {
        synchronized (this) {
            closed = true;
            notifyAll();
        }
        try {
            thread.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
