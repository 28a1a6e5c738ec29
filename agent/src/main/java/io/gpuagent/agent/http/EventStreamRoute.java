package io.gpuagent.agent.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.agent.AgentRegistry;
import io.gpuagent.agent.auth.RefusalLog;
import io.gpuagent.agent.auth.TokenAuth;
import io.gpuagent.agent.events.EventsConfig;
import io.gpuagent.agent.http.problem.Problem;
import io.gpuagent.agent.journal.AgentEvent;
import io.gpuagent.agent.journal.EventLog;
import io.micrometer.core.instrument.Gauge;
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
import java.util.concurrent.ConcurrentHashMap;
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
 * <p>A plain Vert.x route. A connection holds no queue of events: it keeps a cursor into the log and, on its
 * event loop, writes the next page of events after the cursor while its write buffer has room; the log's
 * listener only wakes it. So a client costs a connection and a bounded write buffer whatever it asks for.
 * Bounds ({@link EventsConfig}): at most {@code max-subscribers} clients, of which
 * {@code reserved-for-authenticated} only for clients presenting one of the agent's credentials, and at most
 * {@code max-subscribers-per-address} from one address (one more gets 503 with a problem+json reason and its
 * connection closed; one WARN a minute says so); a client more than {@code max-behind} new events behind, or whose
 * buffer stayed full for two keep-alive periods, or that fell out of the history, is cut off with a comment saying
 * why, and resumes with its Last-Event-ID.
 */
@ApplicationScoped
public class EventStreamRoute {

    private static final Logger LOG = Logger.getLogger(EventStreamRoute.class);

    static final String PATH = "/v1/events/stream";
    static final long KEEP_ALIVE_MS = 15_000;
    /** Events read from the log per step; the write buffer's high-water mark is what bounds a client. */
    static final int PAGE = 100;
    /** How long a cut-off client gets to read the reason before its connection is closed under it. */
    static final long CUT_OFF_GRACE_MS = 5_000;

    private final EventLog log;
    private final ObjectMapper mapper;
    private final EventsConfig config;
    private final TokenAuth auth;
    private final AtomicInteger clients = new AtomicInteger();
    private final Map<String, Integer> perAddress = new ConcurrentHashMap<>();
    /** Any client can be refused or cut off: one line per kind per minute, not one per client. */
    private final RefusalLog refusals = new RefusalLog(System::nanoTime, LOG::warn);

    public EventStreamRoute(EventLog log, ObjectMapper mapper, EventsConfig config, AgentRegistry agentRegistry,
                            TokenAuth auth) {
        if (config.reservedForAuthenticated() < 0 || config.reservedForAuthenticated() > config.maxSubscribers()
                || config.maxSubscribersPerAddress() < 1) {
            throw new IllegalArgumentException("need 0 <= gpu-agent.events.reserved-for-authenticated <= "
                    + "max-subscribers and max-subscribers-per-address >= 1, got " + config.reservedForAuthenticated()
                    + ", " + config.maxSubscribers() + " and " + config.maxSubscribersPerAddress());
        }
        this.log = log;
        this.mapper = mapper;
        this.config = config;
        this.auth = auth;
        Gauge.builder("gpu_agent.event_stream.clients", clients, AtomicInteger::get)
                .description("Event stream (SSE) clients connected now; at most gpu-agent.events.max-subscribers.")
                .register(agentRegistry.registry());
    }

    /** Clients connected now. */
    public int clients() {
        return clients.get();
    }

    void register(@Observes Router router) {
        router.get(PATH).handler(this::stream);
        // HEAD where GET is (StrictRequests): the stream's headers, without subscribing a client that reads nothing.
        router.head(PATH).handler(rc -> rc.response().putHeader("Content-Type", "text/event-stream; charset=utf-8")
                .putHeader("Cache-Control", "no-cache").end());
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

        String address = ConnectionCap.key(rc.request().remoteAddress());
        String full = admit(address, auth.authenticated(rc.request().getHeader("Authorization")));
        if (full != null) {
            refusals.warn(RefusalLog.Kind.EVENT_STREAM_FULL, "event stream client " + address + " refused: " + full
                    + "; raise it if this many readers are expected");
            // Closed once answered: a refused reader that never reads must not go on holding a connection.
            rc.response().putHeader("Retry-After", "10").putHeader("Connection", "close");
            rc.addEndHandler(done -> rc.request().connection().close());
            problem(rc, Problem.response(503, "Service Unavailable", "this agent serves " + full
                    + "; retry later, or page GET /v1/events?since=<id>"));
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

        Connection c = new Connection(rc, query, after, address);
        response.closeHandler(v -> c.close());
        response.exceptionHandler(t -> c.close());
        response.drainHandler(v -> c.drain());
        try {
            // No replay through the listener: the connection pages from its cursor itself; the listener wakes it.
            c.subscription = log.subscribe(Long.MAX_VALUE, e -> c.wake());
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
        c.drain();
    }

    /**
     * Takes a slot for a client from {@code address}: null when it got one (give it back with {@link #release}),
     * else what is full. Anonymous clients leave {@code reserved-for-authenticated} slots free.
     */
    private String admit(String address, boolean authenticated) {
        int max = authenticated ? config.maxSubscribers() : config.maxSubscribers() - config.reservedForAuthenticated();
        if (clients.incrementAndGet() > max) {
            clients.decrementAndGet();
            return authenticated ? "at most " + max + " event stream clients (gpu-agent.events.max-subscribers) and "
                    + "has that many" : "at most " + max + " event stream clients without a credential "
                    + "(gpu-agent.events.max-subscribers less reserved-for-authenticated) and has that many";
        }
        if (perAddress.merge(address, 1, Integer::sum) > config.maxSubscribersPerAddress()) {
            release(address);
            return "at most " + config.maxSubscribersPerAddress() + " event stream clients from one address "
                    + "(gpu-agent.events.max-subscribers-per-address) and has that many from " + address;
        }
        return null;
    }

    private void release(String address) {
        perAddress.computeIfPresent(address, (k, n) -> n <= 1 ? null : n - 1);
        clients.decrementAndGet();
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

    /** One client: a cursor into the log, advanced on the connection's context only. */
    private final class Connection {
        private final RoutingContext rc;
        private final Context context;
        private final HttpServerResponse response;
        private final EventsResource.Query filter;
        private final long startId;   // the newest event when it connected: what came later is "new"
        private final String address;
        private final AtomicBoolean drainScheduled = new AtomicBoolean();
        private final AtomicBoolean closed = new AtomicBoolean();
        private long cursor;          // on the context: every event up to here was written or filtered out
        private boolean stalled;      // on the context: the write buffer was full at the last keep-alive
        private volatile EventLog.Subscription subscription;
        private volatile long keepAlive = -1;

        Connection(RoutingContext rc, EventsResource.Query filter, long after, String address) {
            this.rc = rc;
            this.address = address;
            this.context = Vertx.currentContext();
            this.response = rc.response();
            this.filter = filter;
            // A client older than the history was told so (event: missed): it goes on from the oldest kept.
            this.cursor = Math.max(after, log.oldestId() - 1);
            this.startId = Math.max(after, log.lastId());
        }

        /** The log's listener (appending thread, log lock held): never blocks, never reads the log. */
        void wake() {
            if (!closed.get() && drainScheduled.compareAndSet(false, true)) {
                context.runOnContext(v -> drain());
            }
        }

        /** On the connection's context. */
        void drain() {
            drainScheduled.set(false);
            while (!closed.get()) {
                if (response.writeQueueFull()) {
                    // Only a client that is not taking what it was sent is "behind": a burst alone cuts no one off.
                    long behind = log.lastId() - Math.max(cursor, startId);
                    if (behind > config.maxBehind()) {
                        cutOff(behind + " new events behind (gpu-agent.events.max-behind is " + config.maxBehind() + ")");
                    }
                    return;   // drainHandler calls drain() again once the buffer empties
                }
                EventLog.Page page = log.page(cursor, filter.events(), PAGE);
                if (cursor + 1 < page.oldestId()) {
                    cutOff("events after " + cursor + " are no longer kept");
                    return;
                }
                if (page.scannedTo() == cursor) {
                    return;   // caught up; the listener wakes us for the next event
                }
                for (AgentEvent e : page.events()) {
                    response.write(frame(e));
                }
                cursor = page.scannedTo();
            }
        }

        void keepAlive() {
            if (closed.get()) {
                return;
            }
            if (!response.writeQueueFull()) {
                stalled = false;
                response.write(": keep-alive\n\n");
            } else if (stalled) {
                cutOff("not reading: its buffer stayed full for " + 2 * KEEP_ALIVE_MS / 1000 + " s");
            } else {
                stalled = true;
            }
        }

        /** The reason goes after what is buffered; a client that never reads loses its connection anyway. */
        void cutOff(String why) {
            refusals.warn(RefusalLog.Kind.EVENT_STREAM_CUT_OFF, "event stream client " + rc.request().remoteAddress()
                    + " cut off: " + why + "; it resumes from event " + cursor + " with Last-Event-ID");
            close();
            var connection = rc.request().connection();
            long timer = rc.vertx().setTimer(CUT_OFF_GRACE_MS, t -> connection.close());
            response.end(": cut off: " + why + "; reconnect with Last-Event-ID: " + cursor + " to resume\n\n")
                    .onComplete(ar -> {
                        rc.vertx().cancelTimer(timer);
                        connection.close();
                    });
        }

        String frame(AgentEvent e) {
            String kind = e.kind() == null ? "message" : e.kind().replaceAll("[\\r\\n]", "_");
            return "id: " + e.id() + "\nevent: " + kind + "\ndata: " + json(e) + "\n\n";
        }

        void close() {
            if (!closed.compareAndSet(false, true)) {
                return;
            }
            release(address);
            EventLog.Subscription s = subscription;
            if (s != null) {
                s.close();
            }
            long timer = keepAlive;
            if (timer >= 0) {
                rc.vertx().cancelTimer(timer);
            }
        }
    }
}
