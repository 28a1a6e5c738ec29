package io.gpuagent.agent.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.agent.auth.AccessRole;
import io.gpuagent.agent.recovery.RecoveryEngine;
import io.vertx.core.http.HttpServerRequest;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;

/**
 * {@code GET /v1/recovery}: mode, node breaker, reboot request, cordons, actions in progress, power caps and
 * the policy in force. {@code POST /v1/recovery/breaker/reset} (token): closes the node breaker, audited.
 */
@Path("/v1/recovery")
@Produces(MediaType.APPLICATION_JSON)
public class RecoveryResource {

    /** The answer to a breaker reset. */
    public record BreakerReset(boolean wasOpen, RecoveryEngine.Status status) {
    }

    private final RecoveryEngine recovery;
    private final ObjectMapper mapper;

    public RecoveryResource(RecoveryEngine recovery, ObjectMapper mapper) {
        this.recovery = recovery;
        this.mapper = mapper;
    }

    @GET
    public RecoveryEngine.Status status() {
        return recovery.status();
    }

    @POST
    @Path("/breaker/reset")
    @TokenAuthRequired(AccessRole.OPERATOR)
    @Consumes(MediaType.WILDCARD)
    public BreakerReset resetBreaker(String body, @Context HttpServerRequest request) {
        // Validated like every operator body: empty, or {"reason": "..."}; anything else is a 400, not ignored.
        OperatorReason.parse(mapper, body, "operator closed the node breaker", "driver reloaded");
        boolean was = recovery.resetBreaker(OperatorReason.remote(request));
        return new BreakerReset(was, recovery.status());
    }
}
