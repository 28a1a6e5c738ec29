package io.gpuagent.agent.coordinator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.gpuagent.agent.auth.CoordinatorCredentials;
import io.gpuagent.agent.auth.OutgoingTls;
import io.gpuagent.agent.auth.TlsConfig;
import io.gpuagent.agent.auth.TokenAuth;
import io.gpuagent.agent.lease.Lease;
import io.gpuagent.agent.usage.UsageReport;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import org.jboss.logging.Logger;

/**
 * The coordinator's calls to an agent's lease API ({@code POST /v1/leases} with {@code uuids},
 * {@code DELETE /v1/leases/{id}}), with the credential made for that node's agent alone
 * ({@link CoordinatorCredentials}: {@code coordinator-token-dir/<node>}, or the client certificate only). Before each
 * call the agentUrl is checked again ({@link AgentUrlPolicy}: DNS may have changed); each answer is read within
 * {@code request-timeout} as a whole and at most {@link BoundedCall#MAX_BODY} bytes of it, so an agent (or
 * whatever answers at its URL) that trickles or sends without end cannot hold a placement.
 * Every outcome is a value, never an exception: the caller decides whether to try the next candidate. The
 * {@code env} handed to jobs is built here from an allow-list, never passed through: an agent (or whatever
 * answers at its URL) must not be able to set {@code LD_PRELOAD} in a job.
 */
@ApplicationScoped
public class AgentLeases {

    /** What came of asking an agent for a lease. */
    public sealed interface Take {
    }

    /** The agent granted the lease (it is fsync'd there). */
    public record Granted(Placement.Allocation allocation, Instant expiresAt) implements Take {
    }

    /** The agent cannot grant it now (409): the coordinator's view of the node was stale. */
    public record Refused(String detail) implements Take {
    }

    /** Anything else: the agent is unreachable, rejects the token, or answers something unexpected. */
    public record Failed(String detail) implements Take {
    }

    private static final Logger LOG = Logger.getLogger(AgentLeases.class);
    private static final Pattern LEASE_ID = Pattern.compile("[A-Za-z0-9._~:@-]{1,200}");
    /** The only variables a lease answer may set for a job. */
    public static final Set<String> ENV_ALLOWED = Set.of("CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES",
            "CUDA_DEVICE_ORDER");
    /** Device lists (indexes, UUIDs, MIG ids, "all", "none") and PCI_BUS_ID: no spaces, quotes or shell syntax. */
    private static final Pattern ENV_VALUE = Pattern.compile("[A-Za-z0-9,._:/-]{0,4096}");
    private static final Pattern MIG_ADDRESS = Pattern.compile("[0-9]{1,4}/[0-9]{1,4}(/[0-9]{1,4})?");
    private static final Pattern MIG_PROFILE = Pattern.compile("[A-Za-z0-9.+-]{1,32}");

    private final CoordinatorCredentials credentials;
    private final ObjectMapper mapper;
    private final BoundedCall http;
    private final AgentUrlPolicy urls;

    @Inject
    public AgentLeases(CoordinatorCredentials credentials, ObjectMapper mapper, CoordinatorConfig config,
                       OutgoingTls tls, TlsConfig tlsConfig) {
        this(credentials, mapper, new BoundedCall(tls.client(config.requestTimeout()), config.requestTimeout()),
                new AgentUrlPolicy(config.requireHttps() || tlsConfig.trustCertificates().filter(l -> !l.isEmpty())
                        .isPresent(), config.allowLoopbackAgents()));
    }

    AgentLeases(CoordinatorCredentials credentials, ObjectMapper mapper, BoundedCall http, AgentUrlPolicy urls) {
        this.credentials = credentials;
        this.mapper = mapper;
        this.http = http;
        this.urls = urls;
    }

    /** The rules agentUrls are held to, for registration. */
    public AgentUrlPolicy urls() {
        return urls;
    }

    /** Asks the agent for a lease on exactly these GPUs. */
    public Take take(Placer.Part part, String jobId, Integer ttlSeconds) {
        ObjectNode body = mapper.createObjectNode().put("jobId", jobId);
        part.uuids().forEach(body.putArray("uuids")::add);
        if (ttlSeconds != null) {
            body.put("ttlSeconds", ttlSeconds);
        }
        String where = "the agent of " + part.node() + " (" + part.agentUrl() + ")";
        BoundedCall.Answer r;
        try {
            r = http.send(request(part.node(), part.agentUrl(), "/v1/leases")
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(mapper.writeValueAsString(body))).build());
        } catch (TokenAuth.TokenUnavailable e) {
            return new Failed("the coordinator cannot call " + where + ": " + e.getMessage());
        } catch (IOException e) {
            return new Failed("cannot reach " + where + ": " + e.getMessage() + "; is the agent running and its "
                    + "agentUrl right?");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Failed("interrupted while asking " + where + " for a lease");
        }
        return switch (r.statusCode()) {
            case 201, 200 -> granted(part, r.body(), where);
            case 409 -> new Refused(part.node() + ": " + ProblemDetail.of(mapper, r.body(), 500));
            case 401, 403 -> new Failed(where + " refused the coordinator's credential (" + r.statusCode() + ": "
                    + ProblemDetail.of(mapper, r.body(), 500) + "); the token in the coordinator's "
                    + "gpu-agent.auth.coordinator-token-dir/" + part.node() + " must be the one in that agent's "
                    + "gpu-agent.auth.coordinator-token-file (or its client certificate allowed there)");
            default -> new Failed(where + " answered " + r.statusCode() + " to POST /v1/leases: " + ProblemDetail.of(mapper, r.body(), 500));
        };
    }

    private Take granted(Placer.Part part, String body, String where) {
        try {
            JsonNode json = mapper.readTree(body);
            String leaseId = text(json, "leaseId");
            if (!LEASE_ID.matcher(leaseId).matches()) {
                return new Failed(where + " granted a lease with an id that cannot go in a URL: " + leaseId);
            }
            List<String> gpus = mapper.convertValue(json.get("gpus"),
                    mapper.getTypeFactory().constructCollectionType(List.class, String.class));
            if (gpus == null || !new HashSet<>(gpus).equals(new HashSet<>(part.uuids()))) {
                Take wrong = new Failed(where + " granted lease " + leaseId + " on " + gpus + " instead of "
                        + part.uuids() + "; released it");
                release(part.node(), part.agentUrl(), leaseId);
                return wrong;
            }
            Map<String, String> env = env(json.get("env"), where, leaseId);
            Instant expiresAt = Instant.parse(text(json, "expiresAt"));
            long fencing = json.path("fencingToken").asLong();
            List<Lease.MigDevice> mig = mig(json.get("mig"), part.uuids(), where, leaseId);
            return new Granted(new Placement.Allocation(part.node(), part.agentUrl(), leaseId, part.uuids(), env, fencing,
                    mig), expiresAt);
        } catch (IOException | IllegalArgumentException | DateTimeParseException e) {
            return new Failed(where + " granted a lease but its answer cannot be read (" + e.getMessage()
                    + "); the lease ends by itself at its ttl: " + body);
        }
    }

    /** What came of releasing a lease. */
    public sealed interface Release {
    }

    /** The lease is gone: released now, or already (404: released or expired). */
    public record Released(boolean wasLive) implements Release {
    }

    /** The agent could not be asked; the lease may still be live. */
    public record NotReleased(String detail) implements Release {
    }

    /** Releases one lease on the agent of {@code node}. */
    public Release release(String node, String agentUrl, String leaseId) {
        BoundedCall.Answer r;
        try {
            r = http.send(request(node, agentUrl, "/v1/leases/" + leaseId).DELETE().build());
        } catch (TokenAuth.TokenUnavailable e) {
            return new NotReleased("the coordinator cannot call the agent of " + node + ": " + e.getMessage());
        } catch (IOException e) {
            return new NotReleased("cannot reach the agent at " + agentUrl + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new NotReleased("interrupted while releasing lease " + leaseId + " at " + agentUrl);
        }
        return switch (r.statusCode()) {
            case 204, 200 -> new Released(true);
            case 404 -> new Released(false);
            default -> new NotReleased("the agent at " + agentUrl + " answered " + r.statusCode()
                    + " to DELETE /v1/leases/" + leaseId + ": " + ProblemDetail.of(mapper, r.body(), 500));
        };
    }

    /** What came of asking an agent for a lease's usage. */
    public sealed interface UsageAnswer {
    }

    /** The agent's {@code GET /v1/leases/{id}/usage}. */
    public record UsageOf(UsageReport usage) implements UsageAnswer {
    }

    /** The agent could not be asked, or knows no usage of the lease: why. */
    public record UsageMissing(String detail) implements UsageAnswer {
    }

    /** The usage of one lease on the agent of {@code node} (live, or ended within that agent's retention). */
    public UsageAnswer usage(String node, String agentUrl, String leaseId) {
        BoundedCall.Answer r;
        try {
            r = http.send(request(node, agentUrl, "/v1/leases/" + leaseId + "/usage").GET().build());
        } catch (TokenAuth.TokenUnavailable e) {
            return new UsageMissing("the coordinator cannot call the agent of " + node + ": " + e.getMessage());
        } catch (IOException e) {
            return new UsageMissing("cannot reach the agent at " + agentUrl + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new UsageMissing("interrupted while asking " + agentUrl + " for the usage of lease " + leaseId);
        }
        if (r.statusCode() != 200) {
            return new UsageMissing("the agent at " + agentUrl + " answered " + r.statusCode() + " to GET /v1/leases/"
                    + leaseId + "/usage: " + ProblemDetail.of(mapper, r.body(), 500));
        }
        try {
            UsageReport u = mapper.readValue(r.body(), UsageReport.class);
            if (u == null || u.energyJoules() == null || u.gpuSeconds() == null || u.cost() == null
                    || u.cost().energy() == null || u.cost().gpuTime() == null || u.cost().currency() == null) {
                return new UsageMissing("the agent at " + agentUrl + " answered a usage without its totals");
            }
            return new UsageOf(u);
        } catch (IOException e) {
            return new UsageMissing("the agent at " + agentUrl + " answered a usage that cannot be read ("
                    + e.getMessage() + ")");
        }
    }

    /**
     * A MIG lease answer's {@code mig}, passed on to the job only when it describes exactly the leased devices
     * with well-formed values (else dropped and logged: the job still has the UUIDs and the env); empty for
     * whole GPUs.
     */
    List<Lease.MigDevice> mig(JsonNode mig, List<String> uuids, String where, String leaseId) {
        if (mig == null || mig.isNull()) {
            return List.of();
        }
        String problem;
        try {
            List<Lease.MigDevice> devices = mapper.convertValue(mig,
                    mapper.getTypeFactory().constructCollectionType(List.class, Lease.MigDevice.class));
            problem = devices == null ? "not a list" : devices.stream().map(AgentLeases::migProblem)
                    .filter(java.util.Objects::nonNull).findFirst().orElse(null);
            if (problem == null && !devices.stream().map(Lease.MigDevice::uuid).toList().equals(uuids)) {
                problem = "it describes " + devices.stream().map(Lease.MigDevice::uuid).toList() + ", not " + uuids;
            }
            if (problem == null) {
                return List.copyOf(devices);
            }
        } catch (IllegalArgumentException e) {
            problem = e.getMessage();
        }
        LOG.warnf("%s answered lease %s with a \"mig\" that cannot be passed on (%s); dropped. Check that agent: "
                + "a genuine agent describes exactly the leased MIG devices", where, leaseId, problem);
        return List.of();
    }

    private static String migProblem(Lease.MigDevice d) {
        if (d == null || d.uuid() == null || !d.uuid().startsWith("MIG-") || !ENV_VALUE.matcher(d.uuid()).matches()) {
            return "a device without a MIG- UUID";
        }
        if (d.parentUuid() == null || !ENV_VALUE.matcher(d.parentUuid()).matches() || d.address() == null
                || !MIG_ADDRESS.matcher(d.address()).matches() || d.profile() == null
                || !MIG_PROFILE.matcher(d.profile()).matches()) {
            return "device " + d.uuid() + " has an unreadable parentUuid, address or profile";
        }
        if (d.gpuIndex() < 0 || d.gpuInstanceId() < 0 || d.computeInstanceId() < 0 || d.memoryMiB() < 0) {
            return "device " + d.uuid() + " has a negative index, id or memory";
        }
        return null;
    }

    /** The allowed variables of a lease answer's {@code env}, with safe values; anything else is dropped and logged. */
    static Map<String, String> env(JsonNode env, String where, String leaseId) {
        Map<String, String> out = new LinkedHashMap<>();
        if (env == null || !env.isObject()) {
            return out;
        }
        List<String> dropped = new java.util.ArrayList<>();
        env.fields().forEachRemaining(e -> {
            String value = e.getValue().isTextual() ? e.getValue().asText() : null;
            if (ENV_ALLOWED.contains(e.getKey()) && value != null && ENV_VALUE.matcher(value).matches()) {
                out.put(e.getKey(), value);
            } else {
                dropped.add(e.getKey().length() > 64 ? e.getKey().substring(0, 64) + "..." : e.getKey());
            }
        });
        if (!dropped.isEmpty()) {
            LOG.warnf("%s answered lease %s with env variables that are not allowed or have unsafe values; dropped %s "
                    + "(allowed: %s). Check that agent: a genuine agent sends only these", where, leaseId, dropped,
                    ENV_ALLOWED.stream().sorted().toList());
        }
        return out;
    }

    /**
     * A request to the agent of {@code node} with the credential made for it alone, after checking its URL again.
     *
     * @throws TokenAuth.TokenUnavailable no credential for that node, or its URL is not allowed (the message says)
     */
    private HttpRequest.Builder request(String node, String agentUrl, String path) throws TokenAuth.TokenUnavailable {
        Optional<AgentUrlPolicy.Problem> bad = urls.check(agentUrl);
        if (bad.isPresent()) {
            throw new TokenAuth.TokenUnavailable(bad.get().detail());
        }
        String base = agentUrl.endsWith("/") ? agentUrl.substring(0, agentUrl.length() - 1) : agentUrl;
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(http.deadline())
                .header("Accept", "application/json");
        if (credentials.forNode(node) instanceof CoordinatorCredentials.Bearer(String header)) {
            b.header("Authorization", header);
        }
        return b;
    }

    private static String text(JsonNode json, String field) {
        JsonNode v = json == null ? null : json.get(field);
        if (v == null || !v.isTextual() || v.asText().isBlank()) {
            throw new IllegalArgumentException("\"" + field + "\" is missing");
        }
        return v.asText();
    }
}
