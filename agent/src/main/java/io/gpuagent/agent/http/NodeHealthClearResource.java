package io.gpuagent.agent.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.agent.auth.AccessRole;
import io.gpuagent.agent.health.HealthModel;
import io.gpuagent.agent.health.NodeHealth;
import io.vertx.core.http.HttpServerRequest;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;

/**
 * {@code POST /v1/node/health/clear}, body optional {@code {"reason": "..."}}: an operator clears the node checks'
 * reasons that the latest node sweep did not report (docs/node-health.md), sticky ones included; a condition still
 * observed stays. Needs the operator token; recorded in the event log with who and why. 200 with the node's health.
 */
@Path("/v1/node")
public class NodeHealthClearResource {

    private final HealthModel health;
    private final ObjectMapper mapper;

    public NodeHealthClearResource(HealthModel health, ObjectMapper mapper) {
        this.health = health;
        this.mapper = mapper;
    }

    @POST
    @Path("/health/clear")
    @TokenAuthRequired(AccessRole.OPERATOR)
    @Consumes(MediaType.WILDCARD)
    @Produces(MediaType.APPLICATION_JSON)
    public NodeHealth clear(String body, @Context HttpServerRequest request) {
        String why = OperatorReason.parse(mapper, body, "operator clear via the API", "InfiniBand cable replaced");
        String who = request == null || request.remoteAddress() == null ? "api" : "api " + OperatorReason.remote(request);
        return health.clearNode(who, why);
    }
}
