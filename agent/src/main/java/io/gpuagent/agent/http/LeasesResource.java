package io.gpuagent.agent.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.type.LogicalType;
import io.gpuagent.agent.auth.AccessRole;
import io.gpuagent.agent.http.problem.Problem;
import io.gpuagent.agent.lease.Lease;
import io.gpuagent.agent.lease.LeaseBook;
import io.gpuagent.agent.lease.LeaseRequest;
import io.gpuagent.agent.refusal.Refusal;
import io.gpuagent.agent.usage.UsageLedger;
import io.gpuagent.agent.usage.UsageReport;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The lease API (docs/placement-protocol.md): {@code POST /v1/leases} grants (201, 409 when the node cannot,
 * 400 for bad input), {@code POST /v1/leases/{id}/heartbeat} renews, {@code DELETE /v1/leases/{id}} releases;
 * those need the bearer token. {@code GET /v1/leases} and {@code GET /v1/leases/{id}} are open.
 */
@Path("/v1/leases")
@Produces(MediaType.APPLICATION_JSON)
public class LeasesResource {

    private static final List<String> FIELDS = List.of("jobId", "gpus", "uuids", "mig", "minMemoryMiB",
            "sameNvlinkDomain", "ttlSeconds");
    private static final List<String> MIG_FIELDS = List.of("mig.profile", "mig.count");

    private final LeaseBook book;
    private final UsageLedger usage;
    private final ObjectReader requests;

    public LeasesResource(LeaseBook book, UsageLedger usage, ObjectMapper mapper) {
        this.book = book;
        this.usage = usage;
        // Strict: a misspelt field or "2" for a number is a client bug to report, not to guess around.
        ObjectMapper strict = mapper.copy();
        for (LogicalType t : new LogicalType[] {LogicalType.Integer, LogicalType.Float, LogicalType.Boolean}) {
            strict.coercionConfigFor(t).setCoercion(CoercionInputShape.String, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.EmptyString, CoercionAction.Fail);
        }
        strict.coercionConfigFor(LogicalType.Textual).setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail);
        this.requests = strict.readerFor(LeaseRequest.class)
                .with(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, DeserializationFeature.FAIL_ON_TRAILING_TOKENS,
                        DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .without(DeserializationFeature.ACCEPT_FLOAT_AS_INT, DeserializationFeature.ACCEPT_SINGLE_VALUE_AS_ARRAY);
    }

    @POST
    @TokenAuthRequired({AccessRole.SCHEDULER, AccessRole.COORDINATOR})
    @Consumes(MediaType.WILDCARD)
    public Response grant(String body) {
        LeaseRequest request;
        try {
            request = parse(body);
        } catch (WebApplicationException e) {
            book.countInvalidRequest();
            throw e;
        }
        Lease lease = book.grant(request);
        return Response.status(Response.Status.CREATED).header(HttpHeaders.LOCATION, "/v1/leases/" + lease.leaseId())
                .entity(lease).build();
    }

    @POST
    @Path("/{id}/heartbeat")
    @TokenAuthRequired({AccessRole.SCHEDULER, AccessRole.COORDINATOR})
    @Consumes(MediaType.WILDCARD)
    public Lease heartbeat(@PathParam("id") String id) {
        return book.heartbeat(IdForms.generated(id, "lease"));
    }

    @DELETE
    @Path("/{id}")
    @TokenAuthRequired({AccessRole.SCHEDULER, AccessRole.COORDINATOR})
    public Response release(@PathParam("id") String id) {
        String leaseId = IdForms.generated(id, "lease");
        book.release(leaseId);
        // 200 with the lease's final usage (docs/usage.md); energy up to the last sweep before the release
        return usage.report(leaseId).map(u -> Response.ok(u).build()).orElseGet(() -> Response.noContent().build());
    }

    @GET
    @Path("/{id}/usage")
    public UsageReport usage(@PathParam("id") String id) {
        String leaseId = IdForms.generated(id, "lease");
        return usage.report(leaseId).orElseThrow(() -> new Refusal.Unknown("no usage of lease " + leaseId
                + " on this node (never granted here, or ended more than gpu-agent.usage.retention days ago); "
                + "GET /v1/usage lists what is kept"));
    }

    @GET
    public List<Lease> list() {
        return book.leases();
    }

    @GET
    @Path("/{id}")
    public Lease one(@PathParam("id") String id) {
        return book.lease(IdForms.generated(id, "lease")).orElseThrow(() -> LeaseBook.unknown(id));
    }

    private LeaseRequest parse(String body) {
        if (body == null || body.isBlank()) {
            throw bad("a JSON body is required, e.g. {\"jobId\":\"j-1\",\"gpus\":2,\"ttlSeconds\":600}; fields: "
                    + String.join(", ", FIELDS));
        }
        try {
            LeaseRequest r = requests.readValue(body);
            if (r == null) {
                throw bad("the body must be a JSON object with the fields " + String.join(", ", FIELDS));
            }
            return r;
        } catch (UnrecognizedPropertyException e) {
            boolean inMig = e.getPath().size() > 1 && "mig".equals(e.getPath().getFirst().getFieldName());
            throw inMig ? JsonFields.unknown("mig." + e.getPropertyName(), MIG_FIELDS)
                    : JsonFields.unknown(e.getPropertyName(), FIELDS);
        } catch (ValueInstantiationException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw bad(cause.getMessage());
        } catch (JsonMappingException e) {
            String field = e.getPath().stream().map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                    .collect(Collectors.joining("."));
            throw bad((field.isEmpty() ? "the body" : "\"" + field + "\"") + " has the wrong type or value: "
                    + e.getOriginalMessage() + "; the fields are " + String.join(", ", FIELDS));
        } catch (JsonProcessingException e) {
            throw bad("the body is not valid JSON: " + e.getOriginalMessage());
        }
    }

    private static WebApplicationException bad(String detail) {
        return new WebApplicationException(Problem.badRequest(detail));
    }
}
