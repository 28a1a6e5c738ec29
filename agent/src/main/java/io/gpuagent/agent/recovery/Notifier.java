package io.gpuagent.agent.recovery;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.agent.SamplerService;
import io.gpuagent.agent.journal.AgentEvent;
import io.gpuagent.agent.journal.EventLog;
import io.gpuagent.agent.lease.LeaseEvents;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.Startup;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import org.jboss.logging.Logger;

/**
 * Sends every recovery step and every GPU change to UNHEALTHY or LOST to the webhooks in
 * {@code gpu-agent.recovery.notify-urls} (JSON: the event as {@code /v1/events} shows it). Each URL has its
 * own queue and thread, so a slow receiver delays nobody: the event log hands events over without waiting,
 * and a full queue drops the oldest (counted in {@code gpu_agent_notifications_total{result="dropped"}};
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

    public Notifier(RecoveryConfig config, EventLog events, Webhook webhook, ObjectMapper mapper, SamplerService sampler) {
        this.webhook = webhook;
        this.mapper = mapper;
        this.registry = sampler.agentRegistry();
        List<URI> urls = config.notifyUrls().orElse(List.of());
        for (URI url : urls) {
            if (!"http".equals(url.getScheme()) && !"https".equals(url.getScheme())) {
                throw new IllegalArgumentException("gpu-agent.recovery.notify-urls: " + url + " is not an http(s) URL");
            }
            senders.add(new Sender(url));
        }
        if (!senders.isEmpty()) {
            senders.forEach(Sender::start);
            subscription = events.subscribe(events.lastId(), this::offer);
            LOG.infof("recovery notifications go to %s", urls.stream().map(Notifier::label).toList());
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

    private Counter counter(URI url, String result) {
        return Counter.builder(NOTIFICATIONS).description("Webhook notifications, by receiver and outcome.")
                .tag("url", label(url)).tag("result", result).register(registry);
    }

    /** The URL without credentials or query, which may hold secrets and must not reach /metrics. */
    static String label(URI url) {
        return url.getScheme() + "://" + url.getHost() + (url.getPort() < 0 ? "" : ":" + url.getPort())
                + (url.getPath() == null ? "" : url.getPath());
    }

    private final class Sender implements Runnable {
        final URI url;
        final BlockingQueue<AgentEvent> queue = new ArrayBlockingQueue<>(QUEUE);
        Thread thread;

        Sender(URI url) {
            this.url = url;
        }

        void start() {
            counter(url, "delivered");
            counter(url, "failed");
            counter(url, "dropped");
            thread = Thread.ofPlatform().daemon().name("notify-" + url.getHost()).start(this);
        }

        void offer(AgentEvent e) {
            while (!queue.offer(e)) {
                if (queue.poll() != null) {
                    counter(url, "dropped").increment();
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
                    webhook.post(url, mapper.writeValueAsString(e));
                    counter(url, "delivered").increment();
                    LOG.debugf("event %d delivered to %s", e.id(), label(url));
                } catch (InterruptedException x) {
                    return;
                } catch (JsonProcessingException x) {
                    LOG.errorf("event %d could not be written as JSON for %s: %s", e.id(), label(url), x.getMessage());
                } catch (Exception x) {
                    counter(url, "failed").increment();
                    LOG.warnf("notification of event %d to %s failed after retries (%s); it stays in the event "
                            + "history (GET /v1/events?since=%d); check the receiver", e.id(), url, x.getMessage(), e.id() - 1);
                }
            }
        }
    }
}
