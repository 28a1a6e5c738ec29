package io.gpuagent.agent.recovery;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.agent.AgentRegistry;
import io.gpuagent.agent.journal.AgentEvent;
import io.gpuagent.agent.journal.EventLog;
import io.gpuagent.agent.lease.LeaseEvents;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.Startup;
import io.smallrye.faulttolerance.api.Guard;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.function.Function;
import org.jboss.logging.Logger;

/**
 * Sends every recovery step and every GPU change to UNHEALTHY or LOST to the webhooks in
 * {@code gpu-agent.recovery.notify-urls} (JSON: the event as {@code /v1/events} shows it). Each URL has its
 * own queue, thread, retry and circuit breaker, so a slow or dead receiver delays nobody: the event log hands
 * events over without waiting, and a full queue drops the oldest (counted in {@code gpu_agent_notifications_total{result="dropped"}};
 * the event history keeps everything).
 */
@Startup
@ApplicationScoped
public class Notifier {

    static final int QUEUE = 1000;
    static final String NOTIFICATIONS = "gpu_agent.notifications";

    private static final Logger LOG = Logger.getLogger(Notifier.class);

    private final Webhook webhook;
    private final ObjectMapper mapper;
    private final MeterRegistry registry;
    private final List<Sender> senders = new ArrayList<>();
    private EventLog.Subscription subscription;

    @Inject
    public Notifier(RecoveryConfig config, EventLog events, Webhook webhook, ObjectMapper mapper, AgentRegistry agentRegistry) {
        this(config.notifyUrls().orElse(List.of()), events, webhook, mapper, agentRegistry.registry(), Webhook::guard);
    }

    Notifier(List<URI> urls, EventLog events, Webhook webhook, ObjectMapper mapper, MeterRegistry registry,
             Function<String, Guard> guards) {
        this.webhook = webhook;
        this.mapper = mapper;
        this.registry = registry;
        for (URI url : urls) {
            if (!"http".equals(url.getScheme()) && !"https".equals(url.getScheme())) {
                // Not the URL itself: it may carry the receiver's secret.
                throw new IllegalArgumentException("gpu-agent.recovery.notify-urls: entry " + senders.size()
                        + " is not an http(s) URL");
            }
            String label = label(senders.size(), url);
            senders.add(new Sender(url, label, guards.apply("webhook " + label)));
        }
        if (!senders.isEmpty()) {
            senders.forEach(Sender::start);
            subscription = events.subscribe(events.lastId(), this::offer);
            LOG.infof("recovery notifications go to %s", senders.stream().map(s -> s.label).toList());
        }
    }

    void stop(@Observes ShutdownEvent event) {
        if (subscription != null) {
            subscription.close();
        }
        senders.forEach(s -> s.thread.interrupt());
    }

    /** On the appending thread, under the event log's lock: only filter and enqueue. */
    private void offer(AgentEvent e) {
        // Lease events that a job's owner must hear about: its GPU went bad, or recovery ended its lease.
        boolean worth = AgentEvent.ACTION.equals(e.kind()) || (AgentEvent.STATE.equals(e.kind())
                && ("UNHEALTHY".equals(e.state()) || "LOST".equals(e.state())))
                || (LeaseEvents.KIND.equals(e.kind())
                && (LeaseEvents.LEASED_GPU_UNHEALTHY.equals(e.code()) || LeaseEvents.ENDED.equals(e.code())));
        if (worth) {
            senders.forEach(s -> s.offer(e));
        }
    }

    private Counter counter(String label, String result) {
        return Counter.builder(NOTIFICATIONS).description("Webhook notifications, by receiver (index in "
                        + "gpu-agent.recovery.notify-urls and host) and outcome.")
                .tag("url", label).tag("result", result).register(registry);
    }

    /**
     * How a receiver is shown in /metrics and the log: its index in notify-urls and its host. Slack and Teams
     * keep the secret in the path, others in the query or user info, so nothing else of the URL is shown.
     */
    static String label(int index, URI url) {
        return index + ":" + url.getHost();
    }

    /** Why a delivery failed, in words: exception types with their messages along the cause chain, never "null". */
    static String cause(Throwable t) {
        StringBuilder why = new StringBuilder();
        for (Throwable c = t; c != null && why.length() < 500; c = c.getCause() == c ? null : c.getCause()) {
            if (!why.isEmpty()) {
                why.append(": ");
            }
            why.append(c.getClass().getSimpleName());
            if (c.getMessage() != null && !c.getMessage().isBlank()) {
                why.append(" (").append(c.getMessage().strip()).append(')');
            }
        }
        return why.toString();
    }

    /** One receiver: its own queue, thread and guard (retry and breaker), so a dead one delays no other. */
    private final class Sender implements Runnable {
        final URI url;
        final String label;
        final Guard guard;
        final BlockingQueue<AgentEvent> queue = new ArrayBlockingQueue<>(QUEUE);
        Thread thread;

        Sender(URI url, String label, Guard guard) {
            this.url = url;
            this.label = label;
            this.guard = guard;
        }

        void start() {
            counter(label, "delivered");
            counter(label, "failed");
            counter(label, "dropped");
            thread = Thread.ofPlatform().daemon().name("notify-" + label).start(this);
        }

        void offer(AgentEvent e) {
            while (!queue.offer(e)) {
                if (queue.poll() != null) {
                    counter(label, "dropped").increment();
                }
            }
        }

        @Override
        public void run() {
            while (!Thread.currentThread().isInterrupted()) {
                AgentEvent e;
                try {
                    e = queue.take();
                } catch (InterruptedException x) {
                    return;
                }
                try {
                    String json = mapper.writeValueAsString(e);
                    guard.call(() -> webhook.post(url, json), Integer.class);
                    counter(label, "delivered").increment();
                    LOG.debugf("event %d delivered to webhook %s", e.id(), label);
                } catch (InterruptedException x) {
                    return;
                } catch (JsonProcessingException x) {
                    LOG.errorf("event %d could not be written as JSON for webhook %s: %s", e.id(), label, x.getMessage());
                } catch (Exception x) {
                    counter(label, "failed").increment();
                    LOG.warnf("notification of event %d to webhook %s failed after retries (%s); it stays in the event "
                            + "history (GET /v1/events?since=%d); check that receiver", e.id(), label, cause(x), e.id() - 1);
                }
            }
        }
    }
}
