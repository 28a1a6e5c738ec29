package io.gpuagent.agent.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.agent.auth.AccessRole;
import io.gpuagent.agent.health.DeviceHealth;
import io.gpuagent.agent.health.GpuHealth;
import io.gpuagent.agent.health.HealthModel;
import io.gpuagent.agent.health.MigHealth;
import io.gpuagent.agent.recovery.RecoveryEngine;
import io.vertx.core.http.HttpServerRequest;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

/**
 * {@code POST /v1/gpus/{index|uuid}/health/clear}, body optional {@code {"reason": "..."}}: an operator
 * clears a GPU's health state (for instance after replacing or resetting it by hand). Needs the bearer
 * token ({@link TokenAuthRequired}). The clear is recorded in the event log with who ({@code api} and the
 * client's address) and why. 200 with the GPU's health afterwards; 404 for a GPU this host does not have;
 * 400 for a malformed id or body.
 *
 * <p>A MIG device is cleared the same way, named by its {@code MIG-} UUID or its address
 * ({@code /v1/gpus/0/2/health/clear}, {@code /v1/gpus/0/2/1/health/clear}): its own reasons go (the XIDs judged on
 * it), its GPU's stay (clear the GPU for those); 200 with its {@link MigHealth}.
 */
@Path("/v1/gpus")
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
    @Path("/{id}/health/clear")
    @TokenAuthRequired(AccessRole.OPERATOR)
    @Consumes(MediaType.WILDCARD)
    @Produces(MediaType.APPLICATION_JSON)
    public Response clear(@PathParam("id") String raw, String body, @Context HttpServerRequest request) {
        return clear(GpuId.parse(raw), body, request);
    }

    @POST
    @Path("/{id}/{gi: [0-9]+}/health/clear")
    @TokenAuthRequired(AccessRole.OPERATOR)
    @Consumes(MediaType.WILDCARD)
    @Produces(MediaType.APPLICATION_JSON)
    public Response clearGpuInstance(@PathParam("id") String gpu, @PathParam("gi") String gi, String body,
                                         @Context HttpServerRequest request) {
        return clear(GpuId.parse(gpu, gi, null), body, request);
    }

    @POST
    @Path("/{id}/{gi: [0-9]+}/{ci: [0-9]+}/health/clear")
    @TokenAuthRequired(AccessRole.OPERATOR)
    @Consumes(MediaType.WILDCARD)
    @Produces(MediaType.APPLICATION_JSON)
    public Response clearComputeInstance(@PathParam("id") String gpu, @PathParam("gi") String gi,
                                             @PathParam("ci") String ci, String body, @Context HttpServerRequest request) {
        return clear(GpuId.parse(gpu, gi, ci), body, request);
    }

    /** The device's health after the clear, as its own type (a GPU's or a MIG device's fields). */
    private Response clear(GpuId id, String body, HttpServerRequest request) {
        return Response.ok(cleared(id, body, request)).build();
    }

    private DeviceHealth cleared(GpuId id, String body, HttpServerRequest request) {
        String why = OperatorReason.parse(mapper, body, "operator clear via the API", "GPU replaced");
        if (id.mig()) {
            MigHealth mig = id.findMigHealth(health.gpus()).orElseThrow(id::notFound);
            return health.clearMig(mig.uuid(), who(request), why).orElseThrow(id::notFound);
        }
        GpuHealth gpu = id.findHealth(health.gpus()).orElseThrow(id::notFound);
        // Through recovery, so the clear is in the audit log (actions.jsonl) as well as the event log.
        return recovery.clear(gpu.index(), gpu.uuid(), who(request), OperatorReason.remote(request), why)
                .orElseThrow(id::notFound);
    }

    private static String who(HttpServerRequest request) {
        return request == null || request.remoteAddress() == null ? "api" : "api " + OperatorReason.remote(request);
    }
}
