package io.gpuagent.agent.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.agent.coordinator.Coordinator;
import io.gpuagent.agent.http.problem.Problem;
import io.quarkus.vertx.http.runtime.filters.Filters;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.ws.rs.core.Response;
import java.util.HashSet;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Strict HTTP, the same on every path ({@link Endpoints}), before any route or JAX-RS resource runs and before
 * authentication (it reads headers only, never the body):
 * <ul>
 *   <li>OPTIONS: 204 with {@code Allow} on a path that exists, 404 on one that does not. No CORS.</li>
 *   <li>405 with {@code Allow} for a method the path does not take (HEAD is allowed wherever GET is).</li>
 *   <li>400 for a query parameter given twice ({@code ?limit=1&limit=2}: which one was meant?) and for one the
 *       endpoint does not take (a misspelt {@code ?limt=5} would otherwise be silently ignored).</li>
 *   <li>415 for a body that is not {@code application/json} (a charset, if given, must be UTF-8), or a body at
 *       all where the endpoint takes none. A request without a body needs no Content-Type.</li>
 * </ul>
 * A refusal here is the client's mistake, fully explained in its answer, so it is not logged. Paths outside the
 * table (other than OPTIONS) go on to Vert.x and JAX-RS, which answer 404. The resources keep
 * {@code @Consumes(WILDCARD)}: the content type is decided here, where a body-less POST without a Content-Type
 * ({@code curl -X POST .../cordon}) can be told from one with a body.
 */
@ApplicationScoped
public class StrictRequests {

    private final ObjectMapper mapper;
    private final Coordinator coordinator;

    public StrictRequests(ObjectMapper mapper, Coordinator coordinator) {
        this.mapper = mapper;
        this.coordinator = coordinator;
    }

    void register(@Observes Filters filters) {
        // After MatrixParameters (200), before ReaderGate (100): a wrong method or body is refused the same way
        // with or without a credential.
        filters.register(this::filter, 150);
    }

    private void filter(RoutingContext rc) {
        HttpServerRequest request = rc.request();
        String method = request.method().name();
        Optional<Endpoints.Endpoint> found = Endpoints.find(rc.normalizedPath());
        if (found.isEmpty() || found.get().coordinatorOnly() && !coordinator.active()) {
            if (method.equals("OPTIONS") || found.isPresent()) {
                Problem.end(rc, mapper, Problem.notFound(found.isEmpty()
                        ? "no such path; the endpoints are in docs/api.md" : CoordinatorOnlyFilter.NOT_HERE));
                return;
            }
            rc.next();
            return;
        }
        Endpoints.Endpoint e = found.get();
        if (method.equals("OPTIONS")) {
            rc.response().setStatusCode(204).putHeader("Allow", e.allow()).end();
            return;
        }
        if (!e.allows(method)) {
            rc.response().putHeader("Allow", e.allow());
            Problem.end(rc, mapper, Problem.response(405, "Method Not Allowed", method + " is not a method of "
                    + e.template() + "; it takes " + e.allow()));
            return;
        }
        Optional<Response> refused = query(rc, e).or(() -> body(request, e));
        if (refused.isPresent()) {
            Problem.end(rc, mapper, refused.get());
            return;
        }
        rc.next();
    }

    private static Optional<Response> query(RoutingContext rc, Endpoints.Endpoint e) {
        if (rc.request().query() == null || rc.request().query().isEmpty()) {
            return Optional.empty();
        }
        MultiMap params;
        try {
            params = rc.queryParams();
        } catch (RuntimeException malformed) {   // a broken %-escape
            return Optional.of(Problem.badRequest("the query string is not valid percent-encoding"));
        }
        Set<String> seen = new HashSet<>();
        for (var entry : params) {
            String name = entry.getKey();
            if (!seen.add(name)) {
                return Optional.of(Problem.badRequest("the query parameter '" + abbreviate(name)
                        + "' is given more than once; give it once"));
            }
            if (e.query() != null && !e.query().contains(name)) {
                return Optional.of(Problem.badRequest("unknown query parameter '" + abbreviate(name) + "' for "
                        + e.template() + (e.query().isEmpty() ? ", which takes none"
                        : "; it takes " + String.join(", ", new TreeSet<>(e.query())))));
            }
        }
        return Optional.empty();
    }

    private static Optional<Response> body(HttpServerRequest request, Endpoints.Endpoint e) {
        String method = request.method().name();
        if (method.equals("GET") || method.equals("HEAD") || !hasBody(request)) {
            return Optional.empty();
        }
        if (e.body() == Endpoints.Body.NONE) {
            return Optional.of(unsupported(method + " " + e.template() + " takes no body; send none"));
        }
        String type = request.getHeader("Content-Type");
        if (type == null || !json(type)) {
            return Optional.of(unsupported((type == null ? "the body has no Content-Type"
                    : "the body's Content-Type is '" + abbreviate(type) + "'")
                    + "; send it as 'Content-Type: application/json' (UTF-8)"));
        }
        return Optional.empty();
    }

    /** {@code application/json}, with no parameter but a UTF-8 charset. */
    static boolean json(String contentType) {
        String[] parts = contentType.split(";", -1);
        if (!parts[0].strip().equalsIgnoreCase("application/json")) {
            return false;
        }
        for (int i = 1; i < parts.length; i++) {
            String p = parts[i].strip().toLowerCase(Locale.ROOT);
            if (!p.equals("charset=utf-8") && !p.equals("charset=\"utf-8\"")) {
                return false;
            }
        }
        return true;
    }

    private static boolean hasBody(HttpServerRequest request) {
        String length = request.getHeader("Content-Length");
        return request.getHeader("Transfer-Encoding") != null || length != null && !length.strip().equals("0");
    }

    private static Response unsupported(String detail) {
        return Problem.response(415, "Unsupported Media Type", detail);
    }

    private static String abbreviate(String s) {
        return s.length() <= 64 ? s : s.substring(0, 64) + "...";
    }
}
