package io.gpuagent.agent.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.agent.auth.AccessRole;
import io.gpuagent.agent.coordinator.Coordinator;
import io.gpuagent.agent.coordinator.NodeRegistry;
import io.gpuagent.agent.coordinator.Placement;
import io.gpuagent.agent.coordinator.Placer;
import io.gpuagent.agent.http.problem.Problem;
import io.gpuagent.agent.lease.Inventory;
import io.gpuagent.agent.lease.MigRequest;
import io.gpuagent.agent.refusal.Refusal;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The coordinator's API (docs/placement-protocol.md): {@code POST /v1/nodes/{name}/heartbeat}, {@code GET /v1/nodes},
 * {@code POST/GET /v1/placements}, {@code GET/DELETE /v1/placements/{id}}. Only with
 * {@code gpu-agent.role=coordinator} ({@link CoordinatorOnly}); mutating calls need the bearer token.
 */
@Path("/v1")
@CoordinatorOnly
@Produces(MediaType.APPLICATION_JSON)
public class CoordinatorResource {

    static final Pattern JOB_ID = Pattern.compile("[A-Za-z0-9._:@/-]{1,128}");
    static final int MAX_TTL_SECONDS = 604_800;
    /** An inventory: at most {@link #MAX_GPUS} GPUs and every pair of them linked. */
    static final int MAX_GPUS = 64;
    static final int MAX_LINKS = MAX_GPUS * (MAX_GPUS - 1) / 2;
    /** MIG devices of an inventory: at most {@link Inventory#MAX_MIG_PER_GPU} on each GPU. */
    static final int MAX_MIG = MAX_GPUS * Inventory.MAX_MIG_PER_GPU;
    /**
     * A 64-GPU inventory with all 2,016 links is about 350 KB of JSON; with 7 leased MIG devices on each GPU
     * (MigPlacementApiTest sends the worst case) it stays under this.
     */
    static final int HEARTBEAT_LIMIT = 512 * 1024;
    private static final Set<String> FIELDS = Set.of("jobId", "gpus", "mig", "constraints");
    private static final Set<String> MIG_FIELDS = Set.of("profile", "count");
    private static final Set<String> CONSTRAINTS = Set.of("minMemoryMiB", "sameNvlinkDomain", "ttlSeconds");

    /** The answer to a heartbeat. */
    public record HeartbeatAck(String node, double heartbeatSeconds) {
    }

    private final Coordinator coordinator;
    private final ObjectMapper mapper;

    public CoordinatorResource(Coordinator coordinator, ObjectMapper mapper) {
        this.coordinator = coordinator;
        this.mapper = mapper;
    }

    /**
     * A node's heartbeat, under the node's name in the path: {@link TokenAuthFilter} checks the node's own
     * credential before a byte of the body is read, and the body (at most {@link #HEARTBEAT_LIMIT} bytes) must
     * name the same node.
     */
    @POST
    @Path("/nodes/{name}/heartbeat")
    @TokenAuthRequired(AccessRole.NODE)
    @BodyLimit(HEARTBEAT_LIMIT)
    @Consumes(MediaType.WILDCARD)
    public HeartbeatAck heartbeat(@PathParam("name") String name, String body) {
        String expected = "the body must be the agent's inventory as JSON (GET /v1/inventory on the agent)";
        Inventory inv;
        try {
            JsonNode json = mapper.readTree(body == null ? "" : body);
            if (json == null || !json.isObject() || !json.path("gpus").isArray() || !json.path("links").isArray()) {
                throw bad(expected + ", an object with \"node\", \"agentUrl\", \"gpus\" and \"links\"");
            }
            if (json.get("gpus").size() > MAX_GPUS || json.get("links").size() > MAX_LINKS) {
                throw bad("an inventory has at most " + MAX_GPUS + " GPUs and " + MAX_LINKS + " links");
            }
            JsonNode mig = json.get("mig");   // absent from agents older than MIG leases
            if (mig != null && !mig.isNull()) {
                if (!mig.isArray() || mig.size() > MAX_MIG) {
                    throw bad(expected + ": \"mig\" is a list of at most " + MAX_MIG + " MIG devices ("
                            + Inventory.MAX_MIG_PER_GPU + " per GPU)");
                }
                for (JsonNode m : mig) {
                    if (!m.isObject()) {
                        throw bad(expected + ": every MIG device is an object");
                    }
                }
            }
            for (JsonNode g : json.get("gpus")) {
                if (!g.isObject() || !g.path("reasons").isArray()) {
                    throw bad(expected + ": every GPU is an object with \"reasons\" (a list)");
                }
            }
            inv = mapper.treeToValue(json, Inventory.class);
        } catch (JsonProcessingException e) {
            throw bad(expected + ": " + e.getOriginalMessage());
        }
        if (inv == null || !name.equals(inv.node())) {
            throw bad("the body is the inventory of node " + (inv == null ? null : inv.node()) + ", not of " + name
                    + " (the path's name, whose credential was presented); a node may only heartbeat as itself");
        }
        return new HeartbeatAck(inv.node(), coordinator.heartbeat(inv).toMillis() / 1000.0);
    }

    /**
     * The heartbeat path of 0.1, which names the node only in the body, so its credential could be checked only
     * after reading it: refused without reading the body.
     */
    @POST
    @Path("/nodes/heartbeat")
    @Consumes(MediaType.WILDCARD)
    public Response oldHeartbeat() {
        return Problem.response(410, "Gone", "heartbeats go to POST /v1/nodes/{name}/heartbeat now, so that the "
                + "node's credential is checked before its body is read; upgrade this agent to the coordinator's "
                + "version (docs/placement-protocol.md)");
    }

    /**
     * Forgets a node, so that its name may register again from another {@code agentUrl} (a heartbeat cannot
     * move a name by itself). Operator only.
     */
    @POST
    @Path("/nodes/{name}/forget")
    @TokenAuthRequired(AccessRole.OPERATOR)
    @Consumes(MediaType.WILDCARD)
    public Response forget(@PathParam("name") String name) {
        if (!coordinator.forget(IdForms.nodeName(name))) {
            throw new Refusal.Unknown("node " + name + " is not known to this coordinator");
        }
        return Response.noContent().build();
    }

    @GET
    @Path("/nodes")
    public List<NodeRegistry.Node> nodes() {
        return coordinator.nodes();
    }

    @POST
    @Path("/placements")
    @TokenAuthRequired(AccessRole.SCHEDULER)
    @Consumes(MediaType.WILDCARD)
    public Response place(String body) {
        JsonNode json;
        try {
            json = mapper.readTree(body == null ? "" : body);
        } catch (JsonProcessingException e) {
            throw bad("the body must be JSON such as {\"jobId\":\"j-1\",\"gpus\":2,\"constraints\":"
                    + "{\"sameNvlinkDomain\":true}}: " + e.getOriginalMessage());
        }
        if (json == null || !json.isObject()) {
            throw bad("the body must be a JSON object such as {\"jobId\":\"j-1\",\"gpus\":2}");
        }
        JsonFields.onlyKnown(json, FIELDS, "");
        JsonNode jobNode = json.get("jobId");
        if (jobNode == null || !jobNode.isTextual() || !JOB_ID.matcher(jobNode.asText()).matches()) {
            throw bad("\"jobId\" must be 1-128 characters of A-Z a-z 0-9 . _ : @ / -");
        }
        String jobId = jobNode.asText();
        JsonNode gpus = json.get("gpus");
        MigRequest mig = mig(json.get("mig"));
        if ((gpus == null) == (mig == null)) {
            throw bad("give exactly one of \"gpus\" (how many whole GPUs) and \"mig\" (how many MIG devices of a "
                    + "profile: {\"profile\":\"1g.10gb\",\"count\":2})");
        }
        if (gpus != null && (!gpus.canConvertToInt() || !gpus.isIntegralNumber() || gpus.asInt() < 1)) {
            throw bad("\"gpus\" must be a whole number of GPUs, at least 1");
        }
        Long minMemory = null;
        boolean nvlink = false;
        Integer ttl = null;
        JsonNode c = json.get("constraints");
        if (c != null && !c.isNull()) {
            if (!c.isObject()) {
                throw bad("\"constraints\" must be an object: {\"minMemoryMiB\":40000,\"sameNvlinkDomain\":true,"
                        + "\"ttlSeconds\":600}");
            }
            JsonFields.onlyKnown(c, CONSTRAINTS, "constraints.");
            JsonNode m = c.get("minMemoryMiB");
            if (m != null && !m.isNull()) {
                if (!m.isIntegralNumber() || !m.canConvertToLong() || m.asLong() < 1) {
                    throw bad("\"constraints.minMemoryMiB\" must be a whole number of MiB, at least 1");
                }
                minMemory = m.asLong();
            }
            JsonNode n = c.get("sameNvlinkDomain");
            if (n != null && !n.isNull()) {
                if (!n.isBoolean()) {
                    throw bad("\"constraints.sameNvlinkDomain\" must be true or false");
                }
                nvlink = n.asBoolean();
            }
            JsonNode t = c.get("ttlSeconds");
            if (t != null && !t.isNull()) {
                if (!t.isIntegralNumber() || !t.canConvertToInt() || t.asInt() < 1 || t.asInt() > MAX_TTL_SECONDS) {
                    throw bad("\"constraints.ttlSeconds\" must be 1.." + MAX_TTL_SECONDS + " (7 days)");
                }
                ttl = t.asInt();
            }
        }
        if (mig != null && nvlink) {
            throw bad("\"constraints.sameNvlinkDomain\" cannot be asked for MIG devices: they have no peer-to-peer "
                    + "access, over NVLink or PCIe");
        }
        Placer.Ask ask = mig != null ? Placer.Ask.mig(mig, minMemory) : new Placer.Ask(gpus.asInt(), minMemory, nvlink);
        Placement p = coordinator.place(jobId, ask, ttl);
        return Response.status(201).header("Location", "/v1/placements/" + p.placementId())
                .type(MediaType.APPLICATION_JSON).entity(p).build();
    }

    @GET
    @Path("/placements")
    public List<Placement> placements() {
        return coordinator.placements();
    }

    @GET
    @Path("/placements/{id}")
    public Placement placement(@PathParam("id") String id) {
        return coordinator.placement(IdForms.generated(id, "placement"));
    }

    @GET
    @Path("/placements/{id}/usage")
    public Coordinator.PlacementUsage placementUsage(@PathParam("id") String id) {
        return coordinator.usage(IdForms.generated(id, "placement"));
    }

    @DELETE
    @Path("/placements/{id}")
    @TokenAuthRequired(AccessRole.SCHEDULER)
    public Response release(@PathParam("id") String id) {
        coordinator.release(IdForms.generated(id, "placement"));
        return Response.noContent().build();
    }

    /** The placement's {@code mig}, null when absent; checked as a lease request checks it. */
    private static MigRequest mig(JsonNode mig) {
        if (mig == null || mig.isNull()) {
            return null;
        }
        if (!mig.isObject()) {
            throw bad("\"mig\" must be an object: {\"profile\":\"1g.10gb\",\"count\":2}");
        }
        JsonFields.onlyKnown(mig, MIG_FIELDS, "mig.");
        JsonNode profile = mig.get("profile");
        JsonNode count = mig.get("count");
        if (profile != null && !profile.isNull() && !profile.isTextual()) {
            throw bad("\"mig.profile\" must be a string such as \"1g.10gb\"");
        }
        if (count != null && !count.isNull() && (!count.isIntegralNumber() || !count.canConvertToInt())) {
            throw bad("\"mig.count\" must be a whole number of MIG devices, at least 1");
        }
        try {
            return new MigRequest(profile == null || profile.isNull() ? null : profile.asText(),
                    count == null || count.isNull() ? null : count.asInt());
        } catch (IllegalArgumentException e) {
            throw bad(e.getMessage());
        }
    }

    private static Refusal.Invalid bad(String detail) {
        return new Refusal.Invalid(detail);
    }
}
