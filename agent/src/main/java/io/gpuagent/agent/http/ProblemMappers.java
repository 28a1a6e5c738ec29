package io.gpuagent.agent.http;

import io.gpuagent.agent.http.problem.Problem;
import io.gpuagent.agent.refusal.Refusal;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Response;
import java.time.Duration;
import java.time.Instant;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * Every failure leaves the API as problem+json; nothing escapes as a bare 500 page. A {@link Refusal} is the
 * one way domain code says no, and this is the one place that gives each kind its status. Bad input is refused
 * explicitly where it is parsed; there is deliberately no mapper for {@link IllegalArgumentException}, so a bug
 * answers 500 (and is logged) instead of passing for the client's mistake.
 */
public class ProblemMappers {

    private static final Logger LOG = Logger.getLogger(ProblemMappers.class);

    @ServerExceptionMapper
    public Response webApplication(WebApplicationException e) {
        Response r = e.getResponse();
        if (r.hasEntity() && r.getMediaType() != null && Problem.MEDIA_TYPE.equals(r.getMediaType().toString())) {
            return r;
        }
        Response.StatusType status = r.getStatusInfo();
        return Problem.response(status.getStatusCode(), status.getReasonPhrase(), e.getMessage());
    }

    @ServerExceptionMapper
    public Response refused(Refusal e) {
        Response.Status status = switch (e) {
            case Refusal.Invalid x -> Response.Status.BAD_REQUEST;
            case Refusal.Forbidden x -> Response.Status.FORBIDDEN;
            case Refusal.Unknown x -> Response.Status.NOT_FOUND;
            case Refusal.Conflict x -> Response.Status.CONFLICT;
            case Refusal.RateLimited x -> Response.Status.TOO_MANY_REQUESTS;
            case Refusal.PeerFailed x -> Response.Status.BAD_GATEWAY;
            case Refusal.NotRecorded x -> Response.Status.SERVICE_UNAVAILABLE;
        };
        Response.ResponseBuilder r = Response.status(status).type(Problem.MEDIA_TYPE).entity(new Problem("about:blank",
                status.getReasonPhrase(), status.getStatusCode(), e.detail(), e.instance()));
        if (e instanceof Refusal.RateLimited limited && limited.retryAfter() != null) {
            r.header("Retry-After", Math.max(1, Duration.between(Instant.now(), limited.retryAfter()).toSeconds() + 1));
        }
        return r.build();
    }

    @ServerExceptionMapper
    public Response unexpected(RuntimeException e) {
        OutOfMemoryExit.exitIfOutOfMemory(e);   // Quarkus' output stream wraps a direct-memory one: not a 500, an exit
        LOG.error("unexpected error serving a request; please report it with this stack trace", e);
        return Problem.response(500, "Internal Server Error",
                "the agent failed to answer (" + e.getClass().getSimpleName() + "); see the agent log");
    }
}
