package io.gpuagent.agent.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.agent.auth.AccessRole;
import io.gpuagent.agent.health.GpuHealth;
import io.gpuagent.agent.health.HealthModel;
import io.gpuagent.agent.recovery.RecoveryEngine;
import io.vertx.core.http.HttpServerRequest;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
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

    private final HealthModel health;
    private final RecoveryEngine recovery;
    private final ObjectMapper mapper;

    public HealthClearResource(HealthModel health, RecoveryEngine recovery, ObjectMapper mapper) {
        this.health = health;
        this.recovery = recovery;
        this.mapper = mapper;
    }

    @POST
    @TokenAuthRequired(AccessRole.OPERATOR)
    @Consumes(MediaType.WILDCARD)
    @Produces(MediaType.APPLICATION_JSON)
    public GpuHealth clear(@PathParam("id") String raw, String body, @Context HttpServerRequest request) {
        GpuId id = GpuId.parse(raw);
        String why = OperatorReason.parse(mapper, body, "operator clear via the API", "GPU replaced");
        GpuHealth gpu = health.gpus().stream().filter(g -> id.matches(g.index(), g.uuid())).findFirst()
                .orElseThrow(id::notFound);
        // Through recovery, so the clear is in the audit log (actions.jsonl) as well as the event log.
        return recovery.clear(gpu.index(), gpu.uuid(), who(request), OperatorReason.remote(request), why)
                .orElseThrow(id::notFound);
    }

    private static String who(HttpServerRequest request) {
        return request == null || request.remoteAddress() == null ? "api" : "api " + OperatorReason.remote(request);
    }
}
