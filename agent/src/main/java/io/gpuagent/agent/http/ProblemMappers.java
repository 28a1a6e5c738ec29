package io.gpuagent.agent.http;

import io.gpuagent.agent.http.problem.Problem;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Response;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** Every failure leaves the API as problem+json; nothing escapes as a bare 500 page. */
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
    public Response illegalArgument(IllegalArgumentException e) {
        return Problem.badRequest(e.getMessage());
    }

    @ServerExceptionMapper
    public Response unexpected(RuntimeException e) {
        LOG.error("unexpected error serving a request; please report it with this stack trace", e);
        return Problem.response(500, "Internal Server Error",
                "the agent failed to answer (" + e.getClass().getSimpleName() + "); see the agent log");
    }
}
