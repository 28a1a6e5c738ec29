package io.gpuagent.agent.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.gpuagent.agent.PackagedAgent;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * 10,000 randomized malformed requests over every endpoint and method, with and without credentials, from a
 * seeded generator (the seed is printed; {@code -Dfaults.seed=<n>} replays a run), over a few parallel
 * connections, plus some malformed HTTP on raw sockets. A request that carries a real credential is always
 * malformed (a GPU id that names no GPU, a body that is not what the endpoint takes, a method the endpoint
 * does not have, an unknown lease), so that none of them may change anything; one without a credential, or
 * with a wrong or mangled one, may be well formed and must be refused. Afterwards: not one 5xx, the leases,
 * cordons, breaker, health and audit log exactly as before, the process alive and healthy.
 */
class FaultInjectionMalformedRequestsIT {

    static final String CASE = "10,000 randomized malformed requests";
    static final int REQUESTS = 10_000;
    static final int CONNECTIONS = 4;
    static final String OPERATOR = "fuzz-operator-" + System.nanoTime();
    static final String SCHEDULER = "fuzz-scheduler-" + System.nanoTime();
    static final ObjectMapper JSON = new ObjectMapper();

    static final List<String> PATHS = List.of("/metrics", "/health", "/health/gpus/{gpu}", "/q/health", "/q/health/live",
            "/q/health/ready", "/q/metrics", "/v1/gpus", "/v1/gpus/{gpu}", "/v1/gpus/{gpu}/cordon", "/v1/gpus/{gpu}/uncordon",
            "/v1/gpus/{gpu}/drain", "/v1/gpus/{gpu}/reset", "/v1/gpus/{gpu}/health/clear", "/v1/inventory", "/v1/leases",
            "/v1/leases/{lease}", "/v1/leases/{lease}/heartbeat", "/v1/actions", "/v1/actions/{action}", "/v1/recovery",
            "/v1/recovery/breaker/reset", "/v1/events", "/v1/events/stream", "/v1/nodes", "/v1/nodes/heartbeat", "/v1/nodes/{node}/heartbeat",
            "/v1/nodes/{node}/forget", "/v1/placements", "/v1/placements/{lease}", "/", "/v1", "/v1/gpus/{gpu}/{junk}");
    static final List<String> METHODS = List.of("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "FOO");
    /** GPU ids that name no GPU on an 8-GPU host, or are not ids at all. */
    static final List<String> BAD_GPUS = List.of("8", "99", "-1", "abc", "0;1", "0;force=true", "GPU-00000000-nope", "%00",
            "99999999999999999999999", "1e3", "0x1", "%2F", "..", "0,1", "%E2%80%8B1", "%25", "null", "7.0", "+1",
            "9".repeat(300), "GPU-8a4e6f10-0009-4c2b-9d3e-5f7a1b2c3d4e");
    static final List<String> GOOD_GPUS = List.of("0", "1", "2", "3", "GPU-8a4e6f10-0002-4c2b-9d3e-5f7a1b2c3d4e");
    /** Bodies no endpoint takes: broken JSON, JSON that is no object, a reason that is no string, binary. */
    static final List<String> BAD_FOR_ALL = List.of("{", "[1,2", "{\"reason\": \"x", "{\"reason\": }", "nul", "[]", "\"x\"",
            "42", "true", "null", "{\"reason\": 5}", "{\"reason\": [1]}", "{\"reason\": {}}", "{\"reason\": true}",
            "{\"jobId\":" + "[".repeat(5000) + "}", "\u0000\u0001\u0002", "\uFFFD\uFFFE", "<xml/>", "reason=fan");
    /** Lease requests that break its rules (objects an operator endpoint would take as "no reason given"). */
    static final List<String> BAD_LEASES = List.of("{\"jobId\":\"has space\",\"gpus\":1}", "{\"jobId\":\"a\",\"gpus\":0}",
            "{\"jobId\":\"a\"}", "{\"jobId\":\"a\",\"gpus\":1,\"uuids\":[\"x\"]}", "{\"jobId\":\"a\",\"gpus\":1,\"ttlSeconds\":0}",
            "{\"jobId\":\"a\",\"gpus\":1,\"ttlSeconds\":99999999999}", "{\"jobId\":\"a\",\"gpus\":\"two\"}",
            "{\"jobId\":\"a\",\"gpus\":1e99}", "{\"jobId\":\"a\",\"uuids\":[]}", "{\"jobId\":\"a\",\"uuids\":[null]}",
            "{\"jobId\":\"a\",\"uuids\":[\"x\",\"x\"]}", "{\"reason\":\"a\"}{\"reason\":\"b\"}");

    record Outcome(String request, int status, String body) {
    }

    @Test
    void noMalformedRequestGetsA5xxOrChangesAnything() throws Exception {
        long seed = Long.getLong("faults.seed", System.nanoTime());
        System.out.println("fault-injection: malformed requests seed " + seed + " (replay with -Dfaults.seed=" + seed + ")");
        Path dir = Path.of("target", "it-agents").toAbsolutePath();
        try (PackagedAgent agent = PackagedAgent.named("fault-malformed")
                .property("gpu-agent.auth.operator-token-file", PackagedAgent.writeCredential(dir.resolve("fuzz-operator"), OPERATOR))
                .property("gpu-agent.auth.scheduler-token-file", PackagedAgent.writeCredential(dir.resolve("fuzz-scheduler"), SCHEDULER))
                .start()) {
            agent.awaitScrape();
            agent.await(PackagedAgent.START, () -> assertEquals(200, agent.status("/health")));
            // Some state to keep: two leases and a cordon.
            agent.await(PackagedAgent.START, () -> assertEquals(8, agent.leasableGpus()));
            assertEquals(201, agent.send("POST", "/v1/leases", SCHEDULER, "{\"jobId\":\"fuzz-a\",\"gpus\":1}").statusCode());
            assertEquals(201, agent.send("POST", "/v1/leases", SCHEDULER, "{\"jobId\":\"fuzz-b\",\"gpus\":2}").statusCode());
            assertEquals(200, agent.send("POST", "/v1/gpus/6/cordon", OPERATOR, "{\"reason\":\"fuzz\"}").statusCode());
            String before = state(agent);

            Map<Integer, AtomicLong> statuses = new ConcurrentHashMap<>();
            List<Outcome> serverErrors = Collections.synchronizedList(new ArrayList<>());
            long t0 = System.nanoTime();
            try (HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(2)).build();
                 ExecutorService pool = Executors.newFixedThreadPool(CONNECTIONS)) {
                List<Future<?>> done = new ArrayList<>();
                for (int c = 0; c < CONNECTIONS; c++) {
                    Random random = new Random(seed + c);
                    done.add(pool.submit(() -> {
                        for (int i = 0; i < REQUESTS / CONNECTIONS; i++) {
                            Outcome o = random.nextInt(20) == 0 ? raw(agent, random) : request(agent, http, random);
                            statuses.computeIfAbsent(o.status(), k -> new AtomicLong()).incrementAndGet();
                            if (o.status() >= 500) {
                                serverErrors.add(o);
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> f : done) {
                    f.get();
                }
            }
            long seconds = (System.nanoTime() - t0) / 1_000_000_000;

            String after = state(agent);
            Map<Integer, Long> histogram = new TreeMap<>();
            statuses.forEach((k, v) -> histogram.put(k, v.get()));
            boolean alive = agent.isAlive() && agent.status("/health") == 200;
            boolean met = FaultReport.row(CASE, REQUESTS + " requests (seed " + seed + ", " + CONNECTIONS + " connections, "
                    + seconds + " s): " + serverErrors.size() + " 5xx; statuses " + histogram + " (-1: connection closed "
                    + "without an answer); state " + (before.equals(after) ? "unchanged" : "CHANGED") + "; process "
                    + (alive ? "alive, /health 200" : "NOT healthy"), "0 5xx, no state change, alive",
                    serverErrors.isEmpty() && before.equals(after) && alive);
            assertEquals(List.of(), serverErrors.stream().limit(20).toList(), "5xx answers (seed " + seed + ")");
            assertEquals(before, after, "state after the malformed requests (seed " + seed + ")");
            assertTrue(met, "alive and healthy");
        }
    }

    /** What must not change: leases, cordons and breaker, GPU health, inventory, the audit log. */
    private static String state(PackagedAgent agent) throws IOException {
        ObjectNode s = JSON.createObjectNode();
        s.set("leases", JSON.readTree(agent.body("/v1/leases")));
        JsonNode recovery = JSON.readTree(agent.body("/v1/recovery"));
        s.set("cordoned", recovery.path("cordoned"));
        s.set("breaker", recovery.path("breaker"));
        List<String> health = new ArrayList<>();
        JSON.readTree(agent.get("/health").body()).path("gpus").forEach(g -> health.add(g.path("index").asText() + ":"
                + g.path("state").asText()));
        s.put("health", String.join(",", health));
        List<String> leasable = new ArrayList<>();
        JSON.readTree(agent.body("/v1/inventory")).path("gpus").forEach(g -> leasable.add(g.path("leasable").asText()));
        s.put("leasable", String.join(",", leasable));
        s.set("actions", JSON.readTree(agent.body("/v1/actions?limit=1000")).path("actions"));
        return s.toPrettyString();
    }

    /** One request through the HTTP client: well-formed HTTP, malformed in what it asks. */
    private static Outcome request(PackagedAgent agent, HttpClient http, Random r) {
        int credential = r.nextInt(6);   // 0 none, 1 operator, 2 scheduler, 3 wrong, 4 mangled, 5 another scheme
        boolean real = credential == 1 || credential == 2;
        String template = pick(r, PATHS);
        String method = r.nextInt(3) == 0 ? pick(r, METHODS)
                : template.endsWith("}") || !template.startsWith("/v1/") || template.equals("/v1/gpus") ? "GET" : "POST";
        boolean badGpu = r.nextBoolean();
        String path = template.replace("{gpu}", badGpu ? pick(r, BAD_GPUS) : pick(r, GOOD_GPUS))
                .replace("{lease}", r.nextBoolean() ? "lease-" + Long.toHexString(r.nextLong()) : pick(r, BAD_GPUS))
                .replace("{action}", r.nextBoolean() ? Long.toHexString(r.nextLong()) : pick(r, BAD_GPUS))
                .replace("{node}", r.nextBoolean() ? "node-" + r.nextInt(9) : pick(r, BAD_GPUS))
                .replace("{junk}", pick(r, List.of("x", "cordon;a=b", "reset%00", "health", "..%2F..%2Fetc")));
        // Names nothing that exists: a GPU id that is no GPU, an unknown lease, action or node, a path that is none.
        boolean namesNothing = badGpu && template.contains("{gpu}") || template.contains("{lease}")
                || template.contains("{action}") || template.contains("{node}") || template.contains("{junk}");
        boolean mutating = !method.equals("GET") && !method.equals("HEAD") && !method.equals("OPTIONS");
        String body;
        if (real && mutating && !namesNothing) {
            // A real credential on a real target: the body is what no endpoint takes.
            body = pick(r, BAD_FOR_ALL);
        } else {
            body = switch (r.nextInt(5)) {
                case 0 -> null;
                case 1 -> pick(r, r.nextBoolean() ? BAD_FOR_ALL : BAD_LEASES);
                case 2 -> "{\"reason\":\"fuzz\"}";
                case 3 -> "{\"jobId\":\"fuzz-" + r.nextInt(1000) + "\",\"gpus\":" + (1 + r.nextInt(8)) + "}";
                default -> r.nextInt(50) == 0 ? "x".repeat(300_000) : randomText(r, r.nextInt(200));
            };
        }
        String query = switch (r.nextInt(6)) {
            case 0 -> "?limit=" + pick(r, List.of("-1", "0", "abc", "99999999999", "1e3", ""));
            case 1 -> "?since=" + pick(r, List.of("yesterday", "-5", "2026-13-45T99:00:00Z", "%00", "1" + "0".repeat(40)));
            case 2 -> "?gpu=" + pick(r, BAD_GPUS) + "&gpu=" + pick(r, BAD_GPUS);
            case 3 -> "?force=" + pick(r, List.of("maybe", "", "1", "yes"));
            default -> "";
        };
        String url = agent.baseUri() + path + query;
        HttpRequest.Builder b;
        try {
            b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10));
        } catch (IllegalArgumentException e) {
            return new Outcome(method + " " + url, 0, "not a URI for the client: " + e.getMessage());   // counted as 0
        }
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        switch (credential) {
            // RFC 6750 and 7235: the scheme is case-insensitive and may be followed by several spaces.
            case 1 -> b.header("Authorization", pick(r, List.of("Bearer ", "bearer ", "Bearer   ")) + OPERATOR);
            case 2 -> b.header("Authorization", pick(r, List.of("Bearer ", "BEARER ")) + SCHEDULER);
            case 3 -> b.header("Authorization", "Bearer " + pick(r, List.of("wrong", OPERATOR + "x", "x" + OPERATOR,
                    OPERATOR.substring(1), SCHEDULER.toUpperCase())));
            case 4 -> b.header("Authorization", pick(r, List.of("Bearer", "Bearer ", "bearer" + SCHEDULER, "Bearer" + OPERATOR,
                    "Bearer " + "t".repeat(10_000), "Bearer \u00e9\u00e8", OPERATOR, "Bearer " + OPERATOR + " " + OPERATOR)));
            case 5 -> b.header("Authorization", pick(r, List.of("Basic b3BlcmF0b3I6eA==", "Digest x", "Token " + OPERATOR)));
            default -> { }
        }
        if (r.nextBoolean()) {
            b.header("Content-Type", pick(r, List.of("application/json", "text/plain", "application/xml", "garbage",
                    "multipart/form-data; boundary=x", "application/json; charset=ebcdic", "application/x-www-form-urlencoded")));
        }
        if (r.nextInt(4) == 0) {
            b.header("Accept", pick(r, List.of("application/xml", "text/html", "garbage", "*/*", "text/event-stream")));
        }
        if (r.nextInt(10) == 0) {
            b.header("Last-Event-ID", pick(r, List.of("abc", "-1", "99999999999999999999", "")));
        }
        String request = method + " " + url + " credential=" + credential + " body=" + abbreviate(body);
        try {
            HttpResponse<InputStream> response = http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
            String text;
            try (InputStream in = response.body()) {
                boolean stream = response.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream");
                text = stream ? "(an event stream, closed)" : new String(in.readNBytes(2000), StandardCharsets.UTF_8);
            }
            return new Outcome(request, response.statusCode(), text);
        } catch (IOException e) {
            return new Outcome(request, -1, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Malformed HTTP itself, on a raw socket: the first status line the server answers, -1 when it only closes. */
    private static Outcome raw(PackagedAgent agent, Random r) {
        String host = "Host: 127.0.0.1\r\n";
        String request = pick(r, List.of(
                "GET /metrics HTTP/9.9\r\n" + host + "\r\n",
                "FOO\r\n\r\n",
                "GET\r\n\r\n",
                "\u0000\u0001\u0002\r\n\r\n",
                "GET /health HTTP/1.1\r\nno colon here\r\n" + host + "\r\n",
                "GET /health HTTP/1.1\r\n" + host + "X-Big: " + "a".repeat(20_000) + "\r\n\r\n",
                "GET /" + "a".repeat(10_000) + " HTTP/1.1\r\n" + host + "\r\n",
                "POST /v1/gpus/0/cordon HTTP/1.1\r\n" + host + "Content-Length: -1\r\n\r\n",
                "POST /v1/gpus/0/cordon HTTP/1.1\r\n" + host + "Content-Length: 10\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                "POST /v1/leases HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFF\r\n{}\r\n0\r\n\r\n",
                "POST /v1/leases HTTP/1.1\r\n" + host + "Content-Length: 5\r\n\r\n{",
                "GET /v1/gpus/%zz HTTP/1.1\r\n" + host + "\r\n",
                "GET http://other.example/metrics HTTP/1.1\r\n" + host + "\r\n",
                "GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
                "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"));
        try (Socket s = new Socket("127.0.0.1", agent.port())) {
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            s.shutdownOutput();
            byte[] head = s.getInputStream().readNBytes(12);
            String line = new String(head, StandardCharsets.ISO_8859_1);
            int status = line.startsWith("HTTP/1.") && line.length() >= 12 ? Integer.parseInt(line.substring(9, 12)) : -1;
            return new Outcome("raw " + abbreviate(request), status, line);
        } catch (IOException | NumberFormatException e) {
            return new Outcome("raw " + abbreviate(request), -1, e.toString());
        }
    }

    private static String randomText(Random r, int length) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < length; i++) {
            b.append((char) (r.nextInt(4) == 0 ? r.nextInt(0x3000) : 0x20 + r.nextInt(0x5f)));
        }
        return b.toString();
    }

    private static String abbreviate(String s) {
        return s == null ? "-" : s.length() <= 80 ? s : s.substring(0, 80) + "...(" + s.length() + ")";
    }

    private static <T> T pick(Random r, List<T> list) {
        return list.get(r.nextInt(list.size()));
    }
}
