package io.gpuagent.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;

/**
 * The event log survives {@code kill -9}: the packaged agent serves XIDs injected through the fake driver,
 * is killed with SIGKILL right after serving the last one, and after a restart on the same state directory
 * still serves every event it had served, with the same ids, and numbers new events after them.
 */
class EventLogKillIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    private static final Duration START = Duration.ofSeconds(30);

    private long nextEvent = ThreadLocalRandom.current().nextLong(1L << 40, 1L << 50);

    @Test
    void everyServedEventSurvivesKill9AndRestart() throws Exception {
        Path jar = Path.of(System.getProperty("quarkus-app.jar", "target/quarkus-app/quarkus-run.jar"));
        assertTrue(Files.isRegularFile(jar), "not packaged: " + jar);
        Scenario.write("gpus = 8\n");
        Path state = Files.createTempDirectory(Path.of("target"), "it-kill-state");

        Map<Long, JsonNode> served = new LinkedHashMap<>();
        int port = freePort();
        Process agent = start(jar, state, port, "first");
        try {
            waitUntilWatching(port);
            long before = lastId(port);
            // Several batches, so that the kill comes right after an acknowledged write, not after a quiet spell.
            // A different warning XID per batch: a repeat of the same XID on a GPU within a minute is coalesced
            // into one summary event (issue 11), and this test counts events, one per XID.
            int[] codes = {13, 31, 43, 45, 94};
            for (int batch = 0; batch < codes.length; batch++) {
                StringBuilder scenario = new StringBuilder("gpus = 8\n");
                for (int gpu = 0; gpu < 8; gpu++) {
                    scenario.append("event.").append(nextEvent++).append(" = ").append(gpu).append(" xid ")
                            .append(codes[batch]).append('\n');
                }
                Scenario.write(scenario.toString());
                int wanted = 8 * (batch + 1);
                Scenario.eventually(Duration.ofSeconds(10), () -> {
                    JsonNode events = events(port, before).get("events");
                    long xids = 0;
                    for (JsonNode e : events) {
                        served.put(e.get("id").asLong(), e);
                        xids += "xid".equals(e.get("kind").asText()) ? 1 : 0;
                    }
                    assertTrue(xids >= wanted, "XIDs served: " + xids + " of " + wanted);
                });
            }
        } finally {
            agent.toHandle().destroyForcibly();   // SIGKILL: no shutdown hooks, no flush
            agent.waitFor();
        }
        assertTrue(served.size() >= 40, "served " + served.size());

        Scenario.write("gpus = 8\n");
        int port2 = freePort();
        Process again = start(jar, state, port2, "second");
        try {
            Scenario.eventually(START, () -> assertEquals(200, status(port2, "/v1/events")));
            long firstServed = served.keySet().iterator().next();
            JsonNode page = events(port2, firstServed - 1);
            Map<Long, JsonNode> after = new LinkedHashMap<>();
            page.get("events").forEach(e -> after.put(e.get("id").asLong(), e));
            for (Map.Entry<Long, JsonNode> e : served.entrySet()) {
                assertEquals(e.getValue(), after.get(e.getKey()), "event " + e.getKey() + " after kill -9 and restart");
            }
            long maxServed = served.keySet().stream().mapToLong(Long::longValue).max().orElseThrow();
            assertTrue(page.get("lastId").asLong() >= maxServed);

            // New events continue the numbering.
            waitUntilWatching(port2);
            Scenario.write("gpus = 8\nevent." + nextEvent++ + " = 2 xid 13\n");
            Scenario.eventually(Duration.ofSeconds(10), () -> {
                JsonNode events = events(port2, maxServed).get("events");
                assertTrue(events.size() >= 1, events.toString());
                assertTrue(events.get(0).get("id").asLong() > maxServed);
            });
        } finally {
            again.destroy();
            again.waitFor();
        }
    }

    private static Process start(Path jar, Path state, int port, String name) throws IOException {
        return new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Dgpu-agent.nvml.library=" + Scenario.FAKE_LIBRARY.toAbsolutePath(),
                "-Dgpu-agent.state-dir=" + state, "-Dquarkus.http.port=" + port, "-Dquarkus.http.host=127.0.0.1",
                "-jar", jar.toString())
                .redirectErrorStream(true).redirectOutput(state.resolve("agent-" + name + ".log").toFile()).start();
    }

    /** Events fired before the agent registers for them are dropped (as on the real driver): wait for it. */
    private static void waitUntilWatching(int port) {
        Scenario.eventually(START, () -> {
            String metrics = body(port, "/metrics");
            assertTrue(metrics.contains("gpu_agent_event_watch_gpus 8.0\n"), "not watching all 8 GPUs yet");
        });
    }

    private static long lastId(int port) {
        return events(port, -1).get("lastId").asLong();
    }

    private static JsonNode events(int port, long after) {
        try {
            return JSON.readTree(body(port, "/v1/events?limit=10000" + (after >= 0 ? "&since=" + after : "")));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static int status(int port, String path) {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException | InterruptedException e) {
            throw new AssertionError("agent not answering yet: " + e, e);
        }
    }

    private static String body(int port, String path) {
        try {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), path + ": " + r.body());
            return r.body();
        } catch (IOException | InterruptedException e) {
            throw new AssertionError("agent not answering yet: " + e, e);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
