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
    /** A 64-GPU inventory with all 2,016 links is about 350 KB of JSON. */
    static final int HEARTBEAT_LIMIT = 512 * 1024;
    private static final Set<String> FIELDS = Set.of("jobId", "gpus", "constraints");
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
        if (gpus == null || !gpus.canConvertToInt() || !gpus.isIntegralNumber() || gpus.asInt() < 1) {
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
        Placement p = coordinator.place(jobId, new Placer.Ask(gpus.asInt(), minMemory, nvlink), ttl);
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

    @DELETE
    @Path("/placements/{id}")
    @TokenAuthRequired(AccessRole.SCHEDULER)
    public Response release(@PathParam("id") String id) {
        coordinator.release(IdForms.generated(id, "placement"));
        return Response.noContent().build();
    }

    private static Refusal.Invalid bad(String detail) {
        return new Refusal.Invalid(detail);
    }
}
