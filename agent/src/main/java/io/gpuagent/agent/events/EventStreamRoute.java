package io.gpuagent.agent.events;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.agent.http.EventsResource;
import io.gpuagent.agent.http.Problem;
import io.gpuagent.agent.journal.AgentEvent;
import io.gpuagent.agent.journal.EventLog;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Response;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.jboss.logging.Logger;

/**
 * {@code GET /v1/events/stream}: the event log as server-sent events. Each event is
 * {@code id: <event id>}, {@code event: <kind>} ({@code xid}, {@code state}, ...) and
 * {@code data: <the event as in /v1/events>}.
 *
 * <p>Where it starts: after the {@code Last-Event-ID} header (what a reconnecting EventSource sends), else
 * after {@code ?since=<id or ISO-8601 time>}, else with the next new event. Everything after that point
 * still kept in memory comes first, then live events: in id order, no gaps, no duplicates (that is
 * {@link EventLog#subscribe}'s guarantee). When the requested point is older than the oldest event kept,
 * an {@code event: missed} (no id) says so before the replay. {@code ?gpu=<index|uuid>} keeps one GPU's
 * events. A comment is sent every 15 s so that proxies keep the connection open.
 *
 * <p>A plain Vert.x route: the log's listener runs on the appending thread under the log's lock and only
 * queues the event; the connection's event loop writes it. A client too slow to keep up (more than
 * {@value #MAX_QUEUED} events behind) is disconnected and resumes with its Last-Event-ID.
 */
@ApplicationScoped
public class EventStreamRoute {

    private static final Logger LOG = Logger.getLogger(EventStreamRoute.class);

    static final String PATH = "/v1/events/stream";
    static final long KEEP_ALIVE_MS = 15_000;
    /** More than the log keeps in memory, so a full replay fits. */
    static final int MAX_QUEUED = 20_000;

    private final EventLog log;
    private final ObjectMapper mapper;

    public EventStreamRoute(EventLog log, ObjectMapper mapper) {
        this.log = log;
        this.mapper = mapper;
    }

    void register(@Observes Router router) {
        router.get(PATH).handler(this::stream);
    }

    private void stream(RoutingContext rc) {
        String lastEventId = rc.request().getHeader("Last-Event-ID");
        EventsResource.Query query;
        long after;
        String missed = null;
        try {
            query = EventsResource.Query.parse(first(rc, "since"), first(rc, "gpu"), null);
            long newest = log.lastId();
            if (lastEventId != null) {
                after = EventsResource.Query.parseId(lastEventId, "the Last-Event-ID header");
            } else if (query.afterId() != null) {
                after = query.afterId();
            } else if (query.afterTime() != null) {
                var first = log.since(query.afterTime(), null, null, 1);
                after = first.isEmpty() ? newest : first.getFirst().id() - 1;
            } else {
                after = newest;
            }
            long oldest = log.oldestId();
            if (after > newest) {
                missed = "resuming after event " + after + " but the newest event here is " + newest
                        + ": this agent's event log was reset; sending every event kept";
                after = 0;
                if (oldest > 1) {
                    missed += " (from " + oldest + ")";
                }
            } else if (after + 1 < oldest) {
                missed = "events " + (after + 1) + " to " + (oldest - 1) + " are no longer kept (only the newest "
                        + "events are); the stream goes on from event " + oldest;
            }
        } catch (WebApplicationException e) {
            problem(rc, e.getResponse());
            return;
        }

        HttpServerResponse response = rc.response();
        response.setChunked(true)
                .putHeader("Content-Type", "text/event-stream; charset=utf-8")
                .putHeader("Cache-Control", "no-cache")
                .putHeader("X-Accel-Buffering", "no");
        StringBuilder hello = new StringBuilder("retry: 1000\n: gpu-agent event stream after event ")
                .append(after).append("\n\n");
        if (missed != null) {
            hello.append("event: missed\ndata: ").append(json(Map.of("after", after, "oldestId", log.oldestId(),
                    "message", missed))).append("\n\n");
        }
        response.write(hello.toString());

        Connection c = new Connection(rc.vertx(), Vertx.currentContext(), response, query);
        response.closeHandler(v -> c.close());
        response.exceptionHandler(t -> c.close());
        response.drainHandler(v -> c.drain());
        try {
            c.subscription = log.subscribe(after, c::offer);
        } catch (IllegalStateException e) {   // the log closed: the agent is stopping
            c.close();
            response.end();
            return;
        }
        if (c.closed.get()) {   // the client went away while we subscribed
            c.subscription.close();
            return;
        }
        c.keepAlive = rc.vertx().setPeriodic(KEEP_ALIVE_MS, id -> c.keepAlive());
        if (c.closed.get()) {
            rc.vertx().cancelTimer(c.keepAlive);
        }
    }

    private static String first(RoutingContext rc, String name) {
        return rc.queryParams().get(name);
    }

    private void problem(RoutingContext rc, Response r) {
        Object entity = r.getEntity();
        String body = entity instanceof Problem p ? json(p)
                : json(new Problem("about:blank", "Bad Request", r.getStatus(), String.valueOf(entity), null));
        rc.response().setStatusCode(r.getStatus()).putHeader("Content-Type", Problem.MEDIA_TYPE).end(body);
    }

    private String json(Object value) {
        try {
            return mapper.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write " + value.getClass().getSimpleName() + " as JSON", e);
        }
    }

    /** One client: events queued by the log's listener (any thread), written on the connection's context. */
    private final class Connection {
        private final Vertx vertx;
        private final Context context;
        private final HttpServerResponse response;
        private final EventsResource.Query filter;
        private final Queue<AgentEvent> queue = new ConcurrentLinkedQueue<>();
        private final AtomicInteger queued = new AtomicInteger();
        private final AtomicBoolean drainScheduled = new AtomicBoolean();
        private final AtomicBoolean closed = new AtomicBoolean();
        private volatile boolean overflow;
        private volatile EventLog.Subscription subscription;
        private volatile long keepAlive = -1;

        Connection(Vertx vertx, Context context, HttpServerResponse response, EventsResource.Query filter) {
            this.vertx = vertx;
            this.context = context;
            this.response = response;
            this.filter = filter;
        }

        /** The log's listener: never blocks. */
        void offer(AgentEvent e) {
            if (closed.get() || overflow) {
                return;
            }
            Integer gpu = filter.gpuIndex();
            String uuid = filter.gpuUuid();
            if ((gpu != null && !gpu.equals(e.gpu())) || (uuid != null && !uuid.equals(e.uuid()))) {
                return;
            }
            if (queued.incrementAndGet() > MAX_QUEUED) {
                overflow = true;
            } else {
                queue.add(e);
            }
            if (drainScheduled.compareAndSet(false, true)) {
                context.runOnContext(v -> drain());
            }
        }

        /** On the connection's context. */
        void drain() {
            drainScheduled.set(false);
            if (closed.get()) {
                return;
            }
            if (overflow) {
                LOG.warnf("an event stream client fell %d events behind; disconnecting it (it resumes with Last-Event-ID)",
                        MAX_QUEUED);
                response.end(": too far behind; reconnect with Last-Event-ID to resume\n\n");
                close();
                return;
            }
            while (!response.writeQueueFull()) {
                AgentEvent e = queue.poll();
                if (e == null) {
                    return;
                }
                queued.decrementAndGet();
                response.write(frame(e));
            }
            // The write queue is full: drainHandler calls drain() again once it empties.
        }

        void keepAlive() {
            if (!closed.get() && !response.writeQueueFull()) {
                response.write(": keep-alive\n\n");
            }
        }

        String frame(AgentEvent e) {
            String kind = e.kind() == null ? "message" : e.kind().replaceAll("[\\r\\n]", "_");
            return "id: " + e.id() + "\nevent: " + kind + "\ndata: " + json(e) + "\n\n";
        }

        void close() {
            if (!closed.compareAndSet(false, true)) {
                return;
            }
            EventLog.Subscription s = subscription;
            if (s != null) {
                s.close();
            }
            long timer = keepAlive;
            if (timer >= 0) {
                vertx.cancelTimer(timer);
            }
            queue.clear();
        }
    }
}
