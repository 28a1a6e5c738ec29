package io.gpuagent.agent.http;

import io.gpuagent.agent.http.problem.Problem;
import io.gpuagent.agent.journal.AgentEvent;
import io.gpuagent.agent.journal.EventFilter;
import io.gpuagent.agent.journal.EventLog;
import io.smallrye.common.annotation.NonBlocking;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.MultivaluedMap;
import jakarta.ws.rs.core.UriInfo;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.List;

/**
 * {@code GET /v1/events?since=<id|time>&before=<id>&gpu=<index|uuid|gpu/gi[/ci]>&limit=<n>}: the event history (XIDs, health state
 * changes, actions), oldest first, newest last. The live stream is {@code GET /v1/events/stream}
 * ({@link io.gpuagent.agent.http.EventStreamRoute}).
 *
 * <ul>
 *   <li>without {@code since}: the newest {@code limit} events;</li>
 *   <li>{@code since=<id>}: the first {@code limit} events with a greater id: page on with {@code since=lastId};</li>
 *   <li>{@code since=<ISO-8601 time>} ({@code 2025-01-31T12:00:00Z}, or with an offset): the first
 *       {@code limit} events that happened strictly after it;</li>
 *   <li>{@code before=<id>}: the newest {@code limit} events with a smaller id: walk back with
 *       {@code before=<the first event's id>}; not with {@code since};</li>
 *   <li>{@code gpu}: only that GPU's events, its MIG devices' included, or one MIG device's (by address or
 *       {@code MIG-} UUID; {@link GpuId}); node-level events have no GPU; a GPU this host does not have simply
 *       matches nothing (the history may name GPUs that have since gone);</li>
 *   <li>{@code limit}: 1..1000, default 1000.</li>
 * </ul>
 * A page is at most {@link #MAX_LIMIT} events (some 0.5 MB), so that what one client holds unread is bounded
 * (docs/security.md, Connections and memory); the whole history is read a page at a time. Served on the event
 * loop ({@link NonBlocking}): the query is in memory, and an answer that a client does not read then waits in
 * Netty's buffer, not in a worker thread blocked on the write.
 * Malformed parameters answer 400 with a problem+json body. Only the newest 10,000 events are kept for
 * queries, and the newest 64 fatal events older than those; {@code oldestId} says where the complete history starts.
 */
@Path("/v1/events")
@Produces(MediaType.APPLICATION_JSON)
public class EventsResource {

    public static final int MAX_LIMIT = 1_000;
    static final int DEFAULT_LIMIT = 1_000;

    private final EventLog log;

    public EventsResource(EventLog log) {
        this.log = log;
    }

    /**
     * A page of events. {@code lastId} is the cursor for the next poll ({@code since=lastId}): the last
     * event's id when the page is full, otherwise the newest event id the log had (so an empty page does
     * not make the client scan the same range again). {@code oldestId} is the oldest event still kept.
     */
    public record EventPage(List<AgentEvent> events, long lastId, long oldestId) {
    }

    @GET
    @NonBlocking
    public EventPage list(@Context UriInfo uri) {
        MultivaluedMap<String, String> params = uri.getQueryParameters();
        Query q = Query.parse(param(params, "since"), param(params, "gpu"), param(params, "limit"));
        String before = param(params, "before");
        Long beforeId = before == null ? null : Query.parseId(before, "before");
        if (beforeId != null && (q.afterId() != null || q.afterTime() != null)) {
            throw new WebApplicationException(Problem.badRequest("give since (walk forward) or before (walk back), "
                    + "not both"));
        }
        // Read the newest visible id before querying: every event up to it is visible to the query too.
        List<AgentEvent> newest = log.latest(EventFilter.ALL, 1);
        long visible = newest.isEmpty() ? 0 : newest.getFirst().id();
        List<AgentEvent> events;
        if (beforeId != null) {
            events = log.before(beforeId, q.events(), q.limit());
        } else if (q.afterId() != null) {
            events = log.since(q.afterId(), q.events(), q.limit());
        } else if (q.afterTime() != null) {
            events = log.since(q.afterTime(), q.events(), q.limit());
        } else {
            events = log.latest(q.events(), q.limit());
        }
        long last = events.isEmpty() ? 0 : events.getLast().id();
        boolean paging = q.afterId() != null || q.afterTime() != null;
        long cursor = paging && events.size() == q.limit() ? last : Math.max(last, visible);
        return new EventPage(events, cursor, log.oldestId());
    }

    /** A query parameter's first value; "" for one given without a value ({@code ?since=}), null when absent. */
    private static String param(MultivaluedMap<String, String> params, String name) {
        if (!params.containsKey(name)) {
            return null;
        }
        String value = params.getFirst(name);
        return value == null ? "" : value;
    }

    /**
     * The parsed query parameters of {@code /v1/events} and {@code /v1/events/stream}. {@code parse} throws
     * a {@link WebApplicationException} carrying a 400 problem for anything malformed.
     */
    public record Query(Long afterId, Instant afterTime, GpuId gpu, int limit) {

        /** The events {@code gpu} names; every event without it. */
        public EventFilter events() {
            return gpu == null ? EventFilter.ALL : gpu.events();
        }

        public static Query parse(String since, String gpu, String limit) {
            Long afterId = null;
            Instant afterTime = null;
            if (since != null) {
                afterId = IdForms.number(since, 18);
                if (afterId == null) {
                    afterTime = parseTime(since);
                }
            }
            GpuId id = gpu == null ? null : GpuId.parse(gpu);
            return new Query(afterId, afterTime, id, parseLimit(limit));
        }

        /** An event id ({@code Last-Event-ID}, {@code since} on the stream). */
        public static long parseId(String raw, String what) {
            Long id = IdForms.number(raw, 18);
            if (id == null) {
                throw bad(what + " must be an event id (a whole number >= 0 in plain decimal, no sign or leading zero, "
                        + "such as 42, from a previous event's 'id'), got '" + abbreviate(raw) + "'");
            }
            return id;
        }

        static Instant parseTime(String raw) {
            // A '+' of an offset that was not percent-encoded arrives as a space.
            String s = raw.strip().replace(' ', '+');
            try {
                return Instant.parse(s);
            } catch (DateTimeParseException e) {
                try {
                    return OffsetDateTime.parse(s).toInstant();
                } catch (DateTimeParseException e2) {
                    throw bad("since must be an event id in plain decimal (e.g. 42; no sign, no leading zero) or an "
                            + "ISO-8601 time with a zone "
                            + "(e.g. 2025-01-31T12:00:00Z or 2025-01-31T13:00:00%2B01:00), got '" + abbreviate(raw) + "'");
                }
            }
        }

        static int parseLimit(String raw) {
            if (raw == null) {
                return DEFAULT_LIMIT;
            }
            Long n = IdForms.number(raw, 5);
            if (n == null || n < 1 || n > MAX_LIMIT) {
                throw bad("limit must be a whole number from 1 to " + MAX_LIMIT + " in plain decimal (no sign, no "
                        + "leading zero; default " + DEFAULT_LIMIT + "; read more a page at a time with since=<lastId> "
                        + "or before=<the first event's id>), got '" + abbreviate(raw) + "'");
            }
            return n.intValue();
        }

        private static WebApplicationException bad(String detail) {
            return new WebApplicationException(Problem.badRequest(detail));
        }

        private static String abbreviate(String s) {
            if (s == null) {
                return "";
            }
            return s.length() <= 64 ? s : s.substring(0, 64) + "...";
        }
    }
}
