package io.gpuagent.agent.coordinator;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import io.gpuagent.agent.TestToken;
import io.gpuagent.nvml.fake.FakeNvml;
import io.gpuagent.nvml.fake.Machines;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

/**
 * The agent side: with {@code gpu-agent.coordinator.url} set, the agent (on the fake driver) registers its
 * real inventory with a coordinator (a JDK HTTP server here) with the bearer token, retries with backoff while
 * the coordinator fails, and sends again at once when a GPU's health changes, long before the interval.
 */
@QuarkusTest
@TestProfile(CoordinatorClientTest.WithCoordinator.class)
class CoordinatorClientTest {

    /**
     * The coordinator stand-in: answers 503 to the first {@link #FAILURES} heartbeats, then 200, and lists what
     * it got at {@code GET /beats} (it runs in the profile's class loader, not the test's, so the test asks it
     * over HTTP rather than reading its fields).
     */
    static final int FAILURES = 3;
    static final List<JsonNode> SEEN = new CopyOnWriteArrayList<>();
    static final AtomicInteger STATUS_503 = new AtomicInteger(FAILURES);
    static HttpServer server;

    @ConfigProperty(name = "gpu-agent.coordinator.url")
    String coordinator;

    record Beat(long nanos, String authorization, String path, JsonNode body, int answered) {
    }

    public static class WithCoordinator implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            FakeNvml.write(Machines.dgxH100());
            TestToken.get();
            return Map.of("gpu-agent.coordinator.url", "http://127.0.0.1:" + start() + "/",
                    // Far longer than the test waits: a heartbeat that comes sooner was sent because of a change.
                    "gpu-agent.coordinator.heartbeat-interval", "30s",
                    "gpu-agent.coordinator.retry-initial-delay", "50ms",
                    "gpu-agent.advertise-url", "http://127.0.0.1:9999",
                    "gpu-agent.state-dir", "target/test-state-client-" + System.nanoTime());
        }
    }

    static synchronized int start() {
        if (server == null) {
            try {
                server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            server.createContext("/v1/nodes/", ex -> {
                try (ex) {
                    JsonNode body = FakeAgent.JSON.readTree(ex.getRequestBody());
                    int status = STATUS_503.getAndDecrement() > 0 ? 503 : 200;
                    SEEN.add(FakeAgent.JSON.createObjectNode().put("nanos", System.nanoTime())
                            .put("authorization", ex.getRequestHeaders().getFirst("Authorization"))
                            .put("path", ex.getRequestURI().getPath())
                            .put("answered", status).set("body", body));
                    byte[] answer = (status == 200 ? "{\"node\":\"" + body.path("node").asText() + "\",\"heartbeatSeconds\":30}"
                            : "{\"status\":503,\"title\":\"Service Unavailable\",\"detail\":\"starting\"}")
                            .getBytes(StandardCharsets.UTF_8);
                    ex.sendResponseHeaders(status, answer.length);
                    ex.getResponseBody().write(answer);
                }
            });
            server.createContext("/beats", ex -> {
                try (ex) {
                    byte[] all = FakeAgent.JSON.writeValueAsBytes(SEEN);
                    ex.sendResponseHeaders(200, all.length);
                    ex.getResponseBody().write(all);
                }
            });
            server.start();
        }
        return server.getAddress().getPort();
    }

    @Test
    void registersWithBackoffThenSendsAtOnceWhenAGpuTurnsBad() {
        FakeNvml.write(Machines.dgxH100());
        FakeNvml.eventually(Duration.ofSeconds(20), () -> assertTrue(beats().stream().anyMatch(b -> b.answered() == 200
                && b.body().get("gpus").size() == 8), "no accepted heartbeat with 8 GPUs yet: " + beats().size()));
        List<Beat> first = beats();
        assertTrue(first.size() > FAILURES, "retried after " + FAILURES + " failures: " + first.size());
        for (int i = 0; i <= FAILURES; i++) {
            assertEquals(i < FAILURES ? 503 : 200, first.get(i).answered());
        }
        // Each wait is at least as long as the one before (50 ms doubling): backoff, not a tight loop.
        long gap1 = first.get(1).nanos() - first.get(0).nanos();
        long gap3 = first.get(3).nanos() - first.get(2).nanos();
        assertTrue(gap1 >= Duration.ofMillis(45).toNanos(), "first retry after " + gap1 / 1_000_000 + " ms");
        assertTrue(gap3 >= Duration.ofMillis(190).toNanos(), "third retry after " + gap3 / 1_000_000 + " ms");
        JsonNode inv = first.stream().filter(b -> b.body().get("gpus").size() == 8).findFirst().orElseThrow().body();
        assertEquals("test-node", inv.get("node").asText());
        assertEquals("http://127.0.0.1:9999", inv.get("agentUrl").asText());
        assertEquals(28, inv.get("links").size(), "one link per GPU pair");
        first.forEach(b -> assertEquals("Bearer " + TestToken.get(), b.authorization()));
        first.forEach(b -> assertEquals("/v1/nodes/test-node/heartbeat", b.path(), "the name before the body"));
        String metrics = given().get("/metrics").then().statusCode(200).extract().asString();
        assertTrue(metrics.contains("gpu_agent_coordinator_registered 1.0"), metrics);
        assertTrue(metrics.lines().anyMatch(l -> l.startsWith("gpu_agent_coordinator_heartbeats_total{result=\"failed\"")
                && l.endsWith(" " + FAILURES + ".0")), metrics);

        // Once every GPU is judged HEALTHY a change-triggered heartbeat says so; then GPU 2 is lost.
        FakeNvml.eventually(Duration.ofSeconds(10), () -> assertTrue(last().body().findValues("health").stream()
                .allMatch(h -> h.asText().equals("HEALTHY")), last().body().toString()));
        int before = beats().size();
        FakeNvml.write(Machines.dgxH100().lost(2));
        FakeNvml.eventually(Duration.ofSeconds(5), () -> {
            JsonNode gpu2 = last().body().get("gpus").get(2);
            assertEquals("LOST", gpu2.get("health").asText(), gpu2.toString());
            assertEquals(false, gpu2.get("leasable").asBoolean());
        });
        assertTrue(beats().size() > before);
        FakeNvml.write(Machines.dgxH100());
    }

    private List<Beat> beats() {
        try (HttpClient http = HttpClient.newHttpClient()) {
            String json = http.send(HttpRequest.newBuilder(URI.create(coordinator + "beats")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            List<Beat> out = new ArrayList<>();
            for (JsonNode b : FakeAgent.JSON.readTree(json)) {
                out.add(new Beat(b.get("nanos").asLong(), b.get("authorization").asText(), b.get("path").asText(), b.get("body"),
                        b.get("answered").asInt()));
            }
            return out;
        } catch (IOException | InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    private Beat last() {
        return beats().getLast();
    }
}
