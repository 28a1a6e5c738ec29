package io.gpuagent.agent.coordinator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.gpuagent.agent.lease.GpuLeases;
import io.gpuagent.agent.lease.Inventory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import javax.net.ssl.SSLContext;

/**
 * An agent's lease API per docs/placement-protocol.md on a JDK HTTP server, for the coordinator's endpoint
 * test (the multi-node IT runs the real agents): grants {@code POST /v1/leases} with {@code uuids} unless a
 * GPU is leased or the test scripted a refusal, releases on {@code DELETE}, and heartbeats its inventory
 * (leases included) to the coordinator like an agent does. GPUs given a MIG layout ({@link #migLayout}) are in MIG
 * mode: never leasable whole, their MIG devices ({@code MIG-<node>-<gpu>-<gi>}) are, and a lease of them answers
 * with their {@code mig} details as the agent does.
 */
final class FakeAgent implements AutoCloseable {

    static final ObjectMapper JSON = new ObjectMapper().registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);

    /** What the next lease requests get instead of a grant, in order; empty: grant. */
    final List<Integer> scripted = Collections.synchronizedList(new ArrayList<>());
    final List<JsonNode> leaseRequests = new CopyOnWriteArrayList<>();
    final List<String> deletes = new CopyOnWriteArrayList<>();
    /** Every Authorization header the lease API received ("" for none), as a rogue agent would capture them. */
    final List<String> authorizations = new CopyOnWriteArrayList<>();
    /** Variables the lease answers add to {@code env}, as a hostile or buggy agent might. */
    final Map<String, String> extraEnv = Collections.synchronizedMap(new LinkedHashMap<>());
    /** The agentUrl the heartbeats claim; null: this server's own. */
    volatile String claimedUrl;
    /** GPU index -> the profiles of its MIG devices (GPU instances 1, 2, ... in order); absent: not in MIG mode. */
    final Map<Integer, List<String>> migLayout = Collections.synchronizedMap(new LinkedHashMap<>());

    private final String node;
    private final int gpus;
    private final HttpServer server;
    private final Supplier<String> token;
    private final Supplier<String> leaseToken;
    private final URI heartbeat;
    private final HttpClient http;
    private final boolean https;
    private final ScheduledExecutorService beat = Executors.newSingleThreadScheduledExecutor();
    private final Map<String, Lease> leases = new LinkedHashMap<>();   // guarded by this
    private final Set<Integer> broken = Collections.synchronizedSet(new java.util.HashSet<>());
    private long fencing;
    /** Every lease id granted, released ones included: their usage stays answerable, as the agent's does. */
    private final Set<String> granted = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** What {@code GET /v1/leases/{id}/usage} answers for energy (J) and GPU time (s), and the two cost parts. */
    volatile String usageJoules = "1000.500";
    volatile String usageSeconds = "7200.000";
    volatile String usageEnergyCost = "0.10";
    volatile String usageTimeCost = "4.20";
    private volatile boolean retired;

    private record Lease(String leaseId, String jobId, List<String> uuids, Instant expiresAt) {
    }

    FakeAgent(String node, int gpus, URI heartbeat, Supplier<String> token) throws IOException {
        this(node, gpus, heartbeat, token, token, null);
    }

    FakeAgent(String node, int gpus, URI heartbeat, Supplier<String> token, Supplier<String> leaseToken)
            throws IOException {
        this(node, gpus, heartbeat, token, leaseToken, null);
    }

    /** {@code token}: what its heartbeats send; {@code leaseToken}: what its lease API accepts. */
    /**
     * {@code tls}: when not null, its lease API is HTTPS with this context's key, and its heartbeats trust
     * this context's trust store.
     */
    FakeAgent(String node, int gpus, URI heartbeat, Supplier<String> token, Supplier<String> leaseToken,
              SSLContext tls) throws IOException {
        this.node = node;
        // Every fake node gets the test token as its credentials at the coordinator's test directories; a test
        // with directories of its own (CoordinatorRolesTest) writes those itself.
        io.gpuagent.agent.TestToken.forNode(node);
        this.https = tls != null;
        this.http = tls == null ? HttpClient.newHttpClient() : HttpClient.newBuilder().sslContext(tls).build();
        this.gpus = gpus;
        this.heartbeat = heartbeat.resolve("/v1/nodes/" + node + "/heartbeat");
        this.token = token;
        this.leaseToken = leaseToken;
        if (tls == null) {
            this.server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        } else {
            HttpsServer s = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            s.setHttpsConfigurator(new HttpsConfigurator(tls));
            this.server = s;
        }
        server.createContext("/v1/leases", this::leases);
        server.start();
    }

    /** Starts heartbeating every {@code every} (the first one now, before this returns). */
    FakeAgent heartbeatEvery(Duration every) throws Exception {
        int status = sendHeartbeat();
        if (status != 200) {
            throw new AssertionError("heartbeat of " + node + " answered " + status);
        }
        beat.scheduleWithFixedDelay(() -> {
            try {
                sendHeartbeat();
            } catch (Exception e) {
                // the next beat tries again, as an agent would
            }
        }, every.toMillis(), every.toMillis(), TimeUnit.MILLISECONDS);
        return this;
    }

    int sendHeartbeat() throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(heartbeat).header("Authorization", "Bearer " + token.get())
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(inventory()))).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    /** Stops heartbeating (the coordinator will drop the node). */
    void silence() throws InterruptedException {
        beat.shutdownNow();
        beat.awaitTermination(5, TimeUnit.SECONDS);
    }

    /** Ends a lease on the agent itself, as the Slurm epilog or an expiry would, without the coordinator. */
    synchronized void endLease(String leaseId) {
        leases.remove(leaseId);
    }

    /** This GPU turns UNHEALTHY (as a fatal XID would make it); the next heartbeat says so. */
    void breakGpu(int index) {
        broken.add(index);
    }

    String node() {
        return node;
    }

    String url() {
        return (https ? "https" : "http") + "://127.0.0.1:" + server.getAddress().getPort();
    }

    String uuid(int i) {
        return "GPU-" + node + "-" + i;
    }

    String migUuid(int gpu, int gi) {
        return "MIG-" + node + "-" + gpu + "-" + gi;
    }

    synchronized Set<String> leasedUuids() {
        return leases.values().stream().flatMap(l -> l.uuids().stream()).collect(Collectors.toSet());
    }

    synchronized Inventory inventory() {
        List<Inventory.Gpu> list = new ArrayList<>();
        for (int i = 0; i < gpus; i++) {
            String u = uuid(i);
            Lease l = leases.values().stream().filter(x -> x.uuids().contains(u)).findFirst().orElse(null);
            String health = broken.contains(i) ? "UNHEALTHY" : "HEALTHY";
            boolean migMode = migLayout.containsKey(i);
            list.add(new Inventory.Gpu(i, u, "NVIDIA H100 80GB HBM3", "00000000:" + (10 + i) + ":00.0", health,
                    broken.contains(i) ? List.of("xid 79: GPU fell off the bus") : List.of(), retired, 81559L, 81000L,
                    l == null ? null : new GpuLeases.Held(l.leaseId(), l.jobId(), l.expiresAt()),
                    l == null && !retired && !broken.contains(i) && !migMode, migMode));
        }
        List<Inventory.Mig> mig = new ArrayList<>();
        migLayout.forEach((gpu, profiles) -> {
            for (int gi = 1; gi <= profiles.size(); gi++) {
                String u = migUuid(gpu, gi);
                Lease l = leases.values().stream().filter(x -> x.uuids().contains(u)).findFirst().orElse(null);
                mig.add(new Inventory.Mig(u, gpu, gpu + "/" + gi, profiles.get(gi - 1), 9856, 9843L,
                        broken.contains(gpu) ? "UNHEALTHY" : "HEALTHY", retired,
                        l == null ? null : l.leaseId(), l == null && !retired && !broken.contains(gpu)));
            }
        });
        List<Inventory.Link> links = new ArrayList<>();
        for (int i = 0; i < gpus; i++) {
            for (int j = i + 1; j < gpus; j++) {
                links.add(new Inventory.Link(uuid(i), uuid(j), true, 18, "NODE"));
            }
        }
        return new Inventory(node, claimedUrl != null ? claimedUrl : url(), Instant.now(), broken.isEmpty(), list, links,
                mig);
    }

    private void leases(HttpExchange ex) throws IOException {
        try (ex) {
            String presented = ex.getRequestHeaders().getFirst("Authorization");
            authorizations.add(presented == null ? "" : presented);
            if (!("Bearer " + leaseToken.get()).equals(ex.getRequestHeaders().getFirst("Authorization"))) {
                answer(ex, 403, problem(403, "wrong token"));
                return;
            }
            String path = ex.getRequestURI().getPath();
            if ("POST".equals(ex.getRequestMethod()) && path.equals("/v1/leases")) {
                JsonNode req = JSON.readTree(ex.getRequestBody());
                leaseRequests.add(req);
                Integer scriptedStatus = scripted.isEmpty() ? null : scripted.removeFirst();
                if (scriptedStatus != null) {
                    answer(ex, scriptedStatus, problem(scriptedStatus, "scripted " + scriptedStatus + " on " + node));
                    return;
                }
                grant(ex, req);
            } else if ("DELETE".equals(ex.getRequestMethod()) && path.startsWith("/v1/leases/")) {
                String id = path.substring("/v1/leases/".length());
                deletes.add(id);
                boolean was;
                synchronized (this) {
                    was = leases.remove(id) != null;
                }
                if (was) {
                    ex.sendResponseHeaders(204, -1);
                } else {
                    answer(ex, 404, problem(404, "no lease " + id));
                }
            } else if ("GET".equals(ex.getRequestMethod()) && path.startsWith("/v1/leases/") && path.endsWith("/usage")) {
                String id = path.substring("/v1/leases/".length(), path.length() - "/usage".length());
                if (!granted.contains(id)) {
                    answer(ex, 404, problem(404, "no usage of lease " + id));
                    return;
                }
                answer(ex, 200, ("{\"leaseId\":\"%s\",\"jobId\":\"j\",\"node\":\"%s\",\"live\":false,\"energyJoules\":%s,"
                        + "\"gpuSeconds\":%s,\"cost\":{\"currency\":\"EUR\",\"energy\":%s,\"gpuTime\":%s,\"total\":%s},"
                        + "\"estimated\":false,\"gpus\":[]}").formatted(id, node, usageJoules, usageSeconds, usageEnergyCost,
                        usageTimeCost, new java.math.BigDecimal(usageEnergyCost).add(new java.math.BigDecimal(usageTimeCost))));
            } else {
                answer(ex, 405, problem(405, "not here"));
            }
        }
    }

    private void grant(HttpExchange ex, JsonNode req) throws IOException {
        List<String> uuids = new ArrayList<>();
        req.get("uuids").forEach(u -> uuids.add(u.asText()));
        Lease lease;
        synchronized (this) {
            Set<String> taken = leasedUuids();
            List<String> busy = uuids.stream().filter(taken::contains).toList();
            if (!busy.isEmpty()) {
                answer(ex, 409, problem(409, busy + " already leased"));
                return;
            }
            String id = node + "-lease-" + (++fencing);
            lease = new Lease(id, req.get("jobId").asText(), uuids,
                    Instant.now().plusSeconds(req.path("ttlSeconds").asLong(3600)));
            leases.put(id, lease);
            granted.add(id);
        }
        boolean ofMig = uuids.getFirst().startsWith("MIG-");
        // GPU-<node>-<index>, MIG-<node>-<gpu>-<gi>
        List<Integer> indices = uuids.stream().map(u -> ofMig ? Integer.parseInt(u.split("-")[u.split("-").length - 2])
                : Integer.parseInt(u.substring(u.lastIndexOf('-') + 1))).toList();
        ObjectNode body = JSON.createObjectNode().put("leaseId", lease.leaseId()).put("jobId", lease.jobId());
        uuids.forEach(body.putArray("gpus")::add);
        indices.forEach(body.putArray("indices")::add);
        body.putObject("env").put("CUDA_VISIBLE_DEVICES", ofMig ? String.join(",", uuids) : indices.stream()
                .map(String::valueOf).collect(Collectors.joining(","))).put("NVIDIA_VISIBLE_DEVICES", String.join(",", uuids));
        if (ofMig) {
            var mig = body.putArray("mig");
            for (String u : uuids) {
                String[] parts = u.split("-");
                int gpu = Integer.parseInt(parts[parts.length - 2]);
                int gi = Integer.parseInt(parts[parts.length - 1]);
                mig.addObject().put("uuid", u).put("gpuIndex", gpu).put("parentUuid", uuid(gpu))
                        .put("address", gpu + "/" + gi).put("profile", migLayout.get(gpu).get(gi - 1))
                        .put("gpuInstanceId", gi).put("computeInstanceId", 0).put("memoryMiB", 9856);
            }
        }
        extraEnv.forEach(((ObjectNode) body.get("env"))::put);
        body.put("expiresAt", lease.expiresAt().toString()).put("fencingToken", fencing);
        ex.getResponseHeaders().add("Location", "/v1/leases/" + lease.leaseId());
        answer(ex, 201, JSON.writeValueAsString(body));
    }

    private static String problem(int status, String detail) {
        return JSON.createObjectNode().put("type", "about:blank").put("title", "x").put("status", status)
                .put("detail", detail).toString();
    }

    private static void answer(HttpExchange ex, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", status >= 400 ? "application/problem+json" : "application/json");
        ex.sendResponseHeaders(status, bytes.length);
        ex.getResponseBody().write(bytes);
    }

    /** Stops heartbeating after telling the coordinator that nothing here is leasable, then stops serving. */
    @Override
    public void close() {
        beat.shutdownNow();
        retired = true;
        try {
            beat.awaitTermination(5, TimeUnit.SECONDS);   // no older heartbeat may land after the last one
            sendHeartbeat();
        } catch (Exception e) {
            // the node then only drops at the node timeout
        }
        server.stop(0);
    }
}
