package io.gpuagent.agent.lease;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.agent.Scenario;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Leases survive {@code kill -9}: the packaged agent serves grants and releases from 16 concurrent clients
 * (4 of them keep the one GPU they got) and is killed with SIGKILL while requests are in flight. After a restart on the same state directory,
 * every lease that got a 201 (and no 204 for its release) is there with the same GPUs and fencing token,
 * every lease whose release got a 204 is gone, no GPU is in two leases, and new grants get higher tokens.
 */
class LeaseKillIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    private static final Duration START = Duration.ofSeconds(60);
    private static final int CLIENTS = 16;
    /** Clients that take one GPU and keep it; the others grant and release over and over. */
    private static final int HOLDERS = 4;

    /** What a client saw for one lease. */
    private record Seen(String leaseId, List<String> gpus, long fencingToken) {
    }

    @Test
    void everyAcknowledgedLeaseSurvivesKill9AndNoGpuIsGrantedTwice() throws Exception {
        Path jar = Path.of(System.getProperty("quarkus-app.jar", "target/quarkus-app/quarkus-run.jar"));
        assertTrue(Files.isRegularFile(jar), "not packaged: " + jar);
        Scenario.write("gpus = 8\n");
        Path state = Files.createTempDirectory(Path.of("target"), "it-lease-state");
        Path tokenFile = state.resolve("token");
        Files.writeString(tokenFile, "it-token\n");
        Files.setPosixFilePermissions(tokenFile, PosixFilePermissions.fromString("rw-------"));

        Map<String, Seen> granted = new ConcurrentHashMap<>();
        Set<String> released = ConcurrentHashMap.newKeySet();
        Set<String> releaseInFlight = ConcurrentHashMap.newKeySet();
        AtomicInteger refused = new AtomicInteger();
        int port = freePort();
        Process agent = start(jar, state, tokenFile, port, "first");
        try {
            waitAllLeasable(port);
            AtomicBoolean running = new AtomicBoolean(true);
            AtomicBoolean killed = new AtomicBoolean();
            AtomicInteger jobs = new AtomicInteger();
            ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
            for (int c = 0; c < CLIENTS; c++) {
                boolean holder = c < HOLDERS;
                clients.submit(() -> {
                    while (running.get()) {
                        HttpResponse<String> r = send(port, "POST", "/v1/leases", "{\"jobId\":\"kill-" + jobs.incrementAndGet()
                                + "\",\"gpus\":" + (holder ? 1 : 1 + ThreadLocalRandom.current().nextInt(2)) + ",\"ttlSeconds\":3600}");
                        if (r == null) {
                            return null;   // the agent is gone
                        }
                        if (r.statusCode() == 409) {
                            refused.incrementAndGet();
                            continue;
                        }
                        assertEquals(201, r.statusCode(), r.body());
                        JsonNode l = JSON.readTree(r.body());
                        List<String> gpus = new ArrayList<>();
                        l.get("gpus").forEach(g -> gpus.add(g.asText()));
                        String id = l.get("leaseId").asText();
                        granted.put(id, new Seen(id, gpus, l.get("fencingToken").asLong()));
                        if (holder) {
                            return null;   // held until the kill: these must survive it
                        }
                        Thread.sleep(ThreadLocalRandom.current().nextInt(30));   // held a while: some are live at the kill
                        if (killed.get()) {
                            return null;   // never asked to release: it must survive
                        }
                        releaseInFlight.add(id);
                        HttpResponse<String> d = send(port, "DELETE", "/v1/leases/" + id, null);
                        if (d != null && d.statusCode() == 204) {
                            released.add(id);
                            releaseInFlight.remove(id);
                        }
                    }
                    return null;
                });
            }
            Scenario.eventually(Duration.ofSeconds(30), () -> assertTrue(granted.size() >= 60 && released.size() >= 20,
                    granted.size() + " granted, " + released.size() + " released so far"));
            // Kill in the middle of the traffic: 16 clients have requests in flight now.
            killed.set(true);
            agent.toHandle().destroyForcibly();   // SIGKILL: no shutdown hooks, no flush
            agent.waitFor();
            running.set(false);
            clients.shutdown();
            clients.close();
        } finally {
            agent.toHandle().destroyForcibly();
            agent.waitFor();
        }
        assertTrue(refused.get() > 0, "the clients competed for GPUs");

        int port2 = freePort();
        Process again = start(jar, state, tokenFile, port2, "second");
        try {
            Scenario.eventually(START, () -> assertEquals(200, status(port2, "/v1/leases")));
            Map<String, JsonNode> live = new HashMap<>();
            JSON.readTree(send(port2, "GET", "/v1/leases", null).body()).forEach(l -> live.put(l.get("leaseId").asText(), l));

            int survivorsChecked = 0;
            for (Seen s : granted.values()) {
                boolean acknowledgedRelease = released.contains(s.leaseId());
                boolean unsure = releaseInFlight.contains(s.leaseId());
                JsonNode l = live.get(s.leaseId());
                if (acknowledgedRelease) {
                    assertEquals(null, l, "lease " + s.leaseId() + " was released (204) before the kill");
                } else if (!unsure) {
                    assertTrue(l != null, "acknowledged lease " + s.leaseId() + " lost by kill -9");
                    survivorsChecked++;
                }
                if (l != null) {
                    List<String> gpus = new ArrayList<>();
                    l.get("gpus").forEach(g -> gpus.add(g.asText()));
                    assertEquals(s.gpus(), gpus, "lease " + s.leaseId());
                    assertEquals(s.fencingToken(), l.get("fencingToken").asLong());
                }
            }
            assertTrue(survivorsChecked >= HOLDERS, "only " + survivorsChecked + " acknowledged leases were live at the kill");
            Set<String> held = new HashSet<>();
            for (JsonNode l : live.values()) {
                l.get("gpus").forEach(g -> assertTrue(held.add(g.asText()), "GPU " + g.asText() + " in two leases: " + live));
            }
            // The inventory agrees, and a new grant's token is above every token handed out before the kill.
            long maxOld = granted.values().stream().mapToLong(Seen::fencingToken).max().orElseThrow();
            waitLeasable(port2, 8 - held.size());
            if (held.size() < 8) {
                HttpResponse<String> r = send(port2, "POST", "/v1/leases", "{\"jobId\":\"after-restart\",\"gpus\":1}");
                assertEquals(201, r.statusCode(), r.body());
                assertTrue(JSON.readTree(r.body()).get("fencingToken").asLong() > maxOld, r.body());
            }
        } finally {
            again.destroy();
            again.waitFor();
        }
    }

    private static Process start(Path jar, Path state, Path token, int port, String name) throws IOException {
        return new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Dgpu-agent.nvml.library=" + Scenario.FAKE_LIBRARY.toAbsolutePath(),
                "-Dgpu-agent.state-dir=" + state, "-Dgpu-agent.auth.token-file=" + token.toAbsolutePath(),
                "-Dquarkus.http.port=" + port, "-Dquarkus.http.host=127.0.0.1", "-jar", jar.toString())
                .redirectErrorStream(true).redirectOutput(state.resolve("agent-" + name + ".log").toFile()).start();
    }

    private static void waitAllLeasable(int port) {
        waitLeasable(port, 8);
    }

    private static void waitLeasable(int port, int wanted) {
        Scenario.eventually(START, () -> {
            HttpResponse<String> r = send(port, "GET", "/v1/inventory", null);
            assertTrue(r != null && r.statusCode() == 200, "inventory not served yet");
            int leasable = 0;
            try {
                for (JsonNode g : JSON.readTree(r.body()).get("gpus")) {
                    leasable += g.get("leasable").asBoolean() ? 1 : 0;
                }
            } catch (IOException e) {
                throw new AssertionError(e);
            }
            assertEquals(wanted, leasable, r.body());
        });
    }

    /** The response, or null when the agent did not answer (killed). */
    private static HttpResponse<String> send(int port, String method, String path, String body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10)).header("Authorization", "Bearer it-token")
                .header("Content-Type", "application/json");
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        try {
            return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    private static int status(int port, String path) {
        HttpResponse<String> r = send(port, "GET", path, null);
        if (r == null) {
            throw new AssertionError("agent not answering yet");
        }
        return r.statusCode();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
