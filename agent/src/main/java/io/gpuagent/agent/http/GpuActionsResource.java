package io.gpuagent.agent.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.agent.auth.AccessRole;
import io.gpuagent.agent.http.problem.Problem;
import io.gpuagent.agent.recovery.RecoveryEngine.Submission;
import io.gpuagent.agent.recovery.RecoveryEngine;
import io.gpuagent.agent.recovery.Step;
import io.gpuagent.agent.recovery.Target;
import io.gpuagent.agent.sampler.SamplerService;
import io.gpuagent.agent.refusal.Refusal;
import io.gpuagent.exporter.GpuSample;
import io.vertx.core.http.HttpServerRequest;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.net.URI;

/**
 * Operator actions on one GPU, all needing the bearer token: {@code POST /v1/gpus/{id}/cordon|uncordon}
 * (done at once: 200 with the audit line), {@code drain|reset} (202 Accepted once the opening audit line is
 * durable; {@code Location} and {@code statusUrl} point at {@code /v1/actions/{actionId}}). Body optional:
 * {@code {"reason": "..."}}. {@code reset?force=true} skips the drained-and-idle check (not the rate limit).
 * Refusals are problem+json whose {@code instance} is the audited action: 409 another action in progress or
 * the GPU not drained, 429 (with Retry-After) rate limited, 404 no such GPU, 400 bad id or body.
 */
@Path("/v1/gpus/{id}")
public class GpuActionsResource {

    private final RecoveryEngine recovery;
    private final SamplerService sampler;
    private final ObjectMapper mapper;

    public GpuActionsResource(RecoveryEngine recovery, SamplerService sampler, ObjectMapper mapper) {
        this.recovery = recovery;
        this.sampler = sampler;
        this.mapper = mapper;
    }

    @POST
    @Path("/cordon")
    @TokenAuthRequired(AccessRole.OPERATOR)
    @Consumes(MediaType.WILDCARD)
    @Produces(MediaType.APPLICATION_JSON)
    public Response cordon(@PathParam("id") String id, String body, @Context HttpServerRequest request) {
        return submit(Step.CORDON, id, body, request, false);
    }

    @POST
    @Path("/uncordon")
    @TokenAuthRequired(AccessRole.OPERATOR)
    @Consumes(MediaType.WILDCARD)
    @Produces(MediaType.APPLICATION_JSON)
    public Response uncordon(@PathParam("id") String id, String body, @Context HttpServerRequest request) {
        return submit(Step.UNCORDON, id, body, request, false);
    }

    @POST
    @Path("/drain")
    @TokenAuthRequired(AccessRole.OPERATOR)
    @Consumes(MediaType.WILDCARD)
    @Produces(MediaType.APPLICATION_JSON)
    public Response drain(@PathParam("id") String id, String body, @Context HttpServerRequest request) {
        return submit(Step.DRAIN, id, body, request, false);
    }

    @POST
    @Path("/reset")
    @TokenAuthRequired(AccessRole.OPERATOR)
    @Consumes(MediaType.WILDCARD)
    @Produces(MediaType.APPLICATION_JSON)
    public Response reset(@PathParam("id") String id, @QueryParam("force") String force, String body,
                          @Context HttpServerRequest request) {
        return submit(Step.RESET, id, body, request, flag(force));
    }

    @POST
    @Path("/diag")
    @TokenAuthRequired(AccessRole.OPERATOR)
    @Consumes(MediaType.WILDCARD)
    @Produces(MediaType.APPLICATION_JSON)
    public Response diag(@PathParam("id") String id, String body, @Context HttpServerRequest request) {
        return submit(Step.DIAGNOSE, id, body, request, false);
    }

    private Response submit(Step action, String raw, String body, HttpServerRequest request, boolean force) {
        GpuId id = GpuId.parse(raw).requireGpu("cordon, uncordon, drain, reset and diag");
        String reason = OperatorReason.parse(mapper, body, "operator " + action.label() + " via the API", "fan replaced");
        GpuSample gpu = id.find(sampler.latest()).orElseThrow(id::notFound);
        if (!gpu.info().known()) {
            throw new Refusal.Conflict("GPU " + id
                    + " has not been identified yet (its first read has not finished); try again in a few seconds");
        }
        Target target = new Target(gpu.index(), gpu.uuid(), gpu.info().pciBusId());
        return switch (recovery.operator(action, target, OperatorReason.remote(request), reason, force)) {
            case Submission.Done d -> Response.ok(d.action()).type(MediaType.APPLICATION_JSON).build();
            case Submission.Accepted a -> Response.accepted(a.action()).type(MediaType.APPLICATION_JSON)
                    .location(URI.create(a.action().statusUrl())).build();
        };
    }

    private static boolean flag(String value) {
        if (value == null || value.isEmpty() || value.equalsIgnoreCase("false")) {
            return false;
        }
        if (value.equalsIgnoreCase("true")) {
            return true;
        }
        throw new WebApplicationException(Problem.badRequest("force must be true or false, got '" + value + "'"));
    }
}
