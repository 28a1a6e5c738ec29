package io.gpuagent.agent.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.agent.health.GpuHealth;
import io.gpuagent.agent.health.HealthModel;
import io.gpuagent.agent.recovery.RecoveryEngine;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.SocketAddress;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;

/**
 * {@code POST /v1/gpus/{index|uuid}/health/clear}, body optional {@code {"reason": "..."}}: an operator
 * clears a GPU's health state (for instance after replacing or resetting it by hand). Needs the bearer
 * token ({@link TokenAuthRequired}). The clear is recorded in the event log with who ({@code api} and the
 * client's address) and why. 200 with the GPU's health afterwards; 404 for a GPU this host does not have;
 * 400 for a malformed id or body.
 */
@Path("/v1/gpus/{id}/health/clear")
public class HealthClearResource {

    static final int MAX_REASON = 500;

    private final HealthModel health;
    private final RecoveryEngine recovery;
    private final ObjectMapper mapper;

    public HealthClearResource(HealthModel health, RecoveryEngine recovery, ObjectMapper mapper) {
        this.health = health;
        this.recovery = recovery;
        this.mapper = mapper;
    }

    @POST
    @TokenAuthRequired
    @Consumes(MediaType.WILDCARD)
    @Produces(MediaType.APPLICATION_JSON)
    public GpuHealth clear(@PathParam("id") String raw, String body, @Context HttpServerRequest request) {
        GpuId id = GpuId.parse(raw);
        String why = reason(body);
        GpuHealth gpu = health.gpus().stream().filter(g -> id.matches(g.index(), g.uuid())).findFirst()
                .orElseThrow(id::notFound);
        // Through recovery, so the clear is in the audit log (actions.jsonl) as well as the event log.
        return recovery.clear(gpu.index(), gpu.uuid(), who(request), GpuActionsResource.remote(request), why)
                .orElseThrow(id::notFound);
    }

    private String reason(String body) {
        if (body == null || body.isBlank()) {
            return "operator clear via the API";
        }
        JsonNode json;
        try {
            json = mapper.readTree(body);
        } catch (JsonProcessingException e) {
            throw bad("the body must be empty or a JSON object such as {\"reason\": \"GPU replaced\"}: "
                    + e.getOriginalMessage());
        }
        if (json == null || !json.isObject()) {
            throw bad("the body must be empty or a JSON object such as {\"reason\": \"GPU replaced\"}");
        }
        JsonNode reason = json.get("reason");
        if (reason == null || reason.isNull()) {
            return "operator clear via the API";
        }
        if (!reason.isTextual()) {
            throw bad("\"reason\" must be a string");
        }
        String text = reason.asText().strip().replaceAll("\\p{Cntrl}", " ");
        if (text.isEmpty()) {
            return "operator clear via the API";
        }
        return text.length() <= MAX_REASON ? text : text.substring(0, MAX_REASON) + "...";
    }

    private static String who(HttpServerRequest request) {
        SocketAddress remote = request == null ? null : request.remoteAddress();
        return remote == null ? "api" : "api " + (remote.hostAddress() != null ? remote.hostAddress() : remote.toString());
    }

    private static WebApplicationException bad(String detail) {
        return new WebApplicationException(Problem.badRequest(detail));
    }
}
