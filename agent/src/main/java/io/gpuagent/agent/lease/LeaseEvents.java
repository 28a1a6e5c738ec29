package io.gpuagent.agent.lease;

import io.gpuagent.agent.journal.AgentEvent;
import io.gpuagent.agent.journal.EventLog;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Lease happenings in the event history ({@code /v1/events}, kind {@code lease}; the recovery engine's
 * notifier forwards events to webhooks). Appended on one thread of its own, in order: the callers hold the
 * lease book's lock or the health model's, and an event append waits for an fsync.
 */
@ApplicationScoped
public class LeaseEvents {

    public static final String KIND = "lease";
    public static final String GRANTED = "LEASE_GRANTED";
    public static final String RELEASED = "LEASE_RELEASED";
    public static final String EXPIRED = "LEASE_EXPIRED";
    public static final String ENDED = "LEASE_ENDED";
    public static final String LEASED_GPU_UNHEALTHY = "LEASED_GPU_UNHEALTHY";

    private static final Logger LOG = Logger.getLogger(LeaseEvents.class);

    private final EventLog log;
    private final ExecutorService thread = Executors.newSingleThreadExecutor(
            Thread.ofPlatform().name("lease-events").daemon(true).factory());

    public LeaseEvents(EventLog log) {
        this.log = log;
    }

    /** Records a node-level lease event (its message names the lease, job and GPUs). Never blocks. */
    void post(String code, String message) {
        post(AgentEvent.of(null, null, KIND, "lease", code, message));
    }

    /** Records an event. Never blocks. */
    void post(AgentEvent event) {
        try {
            thread.execute(() -> {
                try {
                    log.append(event);
                } catch (RuntimeException e) {
                    LOG.errorf("could not record a lease event in the event log (%s): %s", e.getMessage(), event.message());
                }
            });
        } catch (RejectedExecutionException e) {
            LOG.warnf("shutting down; lease event not recorded: %s", event.message());
        }
    }

    @PreDestroy
    void stop() {
        thread.shutdown();
        try {
            thread.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
