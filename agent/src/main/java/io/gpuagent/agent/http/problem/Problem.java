package io.gpuagent.agent.http.problem;

import com.fasterxml.jackson.annotation.JsonInclude;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

/** An RFC 9457 problem detail: every error the API returns, with a message a person can act on. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Problem(String type, String title, int status, String detail, String instance) {

    public static final String MEDIA_TYPE = "application/problem+json";

    public static Response response(int status, String title, String detail) {
        return Response.status(status).type(MediaType.valueOf(MEDIA_TYPE))
                .entity(new Problem("about:blank", title, status, detail, null)).build();
    }

    public static Response badRequest(String detail) {
        return response(400, "Bad Request", detail);
    }

    public static Response notFound(String detail) {
        return response(404, "Not Found", detail);
    }

    /** Ends a Vert.x request with {@code r} (a problem response), for filters that answer before JAX-RS runs. */
    public static void end(io.vertx.ext.web.RoutingContext rc, com.fasterxml.jackson.databind.ObjectMapper mapper, Response r) {
        var response = rc.response().setStatusCode(r.getStatus()).putHeader("Content-Type", MEDIA_TYPE);
        String challenge = r.getHeaderString("WWW-Authenticate");
        if (challenge != null) {
            response.putHeader("WWW-Authenticate", challenge);
        }
        try {
            response.end(mapper.writeValueAsString(r.getEntity()));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            response.end();
        }
    }
}
