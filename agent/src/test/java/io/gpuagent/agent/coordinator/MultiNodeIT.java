package io.gpuagent.agent.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.agent.PackagedAgent;
import io.gpuagent.nvml.fake.FakeNvml;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * One coordinator and three agents, each the packaged jar on loopback, each agent on the fake driver with its
 * own scenario file (4 GPUs): 20 jobs of 1, 2 and 4 GPUs are placed (releasing the oldest when the cluster is
 * full); every allocation is a live lease on its agent, none overlap, and each uses the fewest nodes. Then a
 * GPU is lost through its agent's scenario and is never chosen again, and an agent killed with SIGKILL is
 * dropped from the node list and never chosen again.
 */
class MultiNodeIT {

    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    static final Duration START = Duration.ofSeconds(90);
    static final int GPUS = 4;
    static final Duration NODE_TIMEOUT = Duration.ofSeconds(3);

    private final List<PackagedAgent> processes = new ArrayList<>();
    private String token;
    private int coordinatorPort;

    @AfterEach
    void stop() {
        processes.stream().filter(PackagedAgent::isAlive).forEach(a -> a.process().destroy());   // all stop at once
        processes.forEach(PackagedAgent::close);
    }

    @Test
    void oneCoordinatorThreeAgentsTwentyJobsABadGpuAndADeadNode() throws Exception {
        token = "it-" + UUID.randomUUID();
        Path tokenFile = PackagedAgent.writeCredential(Path.of("target", "it-agents", "multinode-token-" + System.nanoTime()), token);

        // Each node's credentials at the coordinator (issue 19: per node, never one token for all): the agents
        // here send the old single token as their node credential and accept it as the coordinator's.
        Path credentials = Path.of("target", "it-agents", "multinode-credentials-" + System.nanoTime());
        for (int i = 0; i < 3; i++) {
            PackagedAgent.writeCredential(credentials.resolve("nodes").resolve("node-" + i), token);
            PackagedAgent.writeCredential(credentials.resolve("coordinator-tokens").resolve("node-" + i), token);
        }
        // The coordinator is no GPU host: no NVML library where it looks, and it must serve anyway.
        PackagedAgent coordinator = PackagedAgent.named("multinode-coordinator").noDriver()
                .property("gpu-agent.auth.token-file", tokenFile).property("gpu-agent.role", "coordinator")
                .property("gpu-agent.auth.node-token-dir", credentials.resolve("nodes").toAbsolutePath())
                .property("gpu-agent.auth.coordinator-token-dir", credentials.resolve("coordinator-tokens").toAbsolutePath())
                .property("gpu-agent.coordinator.allow-loopback-agents", "true")
                .property("gpu-agent.coordinator.node-timeout", NODE_TIMEOUT.toMillis() + "ms").start();
        processes.add(coordinator);
        coordinatorPort = coordinator.port();
        Map<String, PackagedAgent> agents = new LinkedHashMap<>();
        for (int i = 0; i < 3; i++) {
            String node = "node-" + i;
            PackagedAgent p = PackagedAgent.named("multinode-" + node).scenario("gpus = " + GPUS + "\n")
                    .property("gpu-agent.auth.token-file", tokenFile)
                    .property("gpu-agent.hostname", node).property("gpu-agent.advertise-url", "http://127.0.0.1:{port}")
                    .property("gpu-agent.coordinator.url", "http://127.0.0.1:" + coordinatorPort)
                    .property("gpu-agent.coordinator.heartbeat-interval", "300ms")
                    .property("gpu-agent.coordinator.retry-initial-delay", "100ms")
                    // Not faster: four JVMs share 2 cores in CI, and a GPU read past its deadline (STALE) or a
                    // snapshot older than 3 intervals is not leasable, which would fail placements spuriously.
                    .property("gpu-agent.sample-interval", "500ms").property("gpu-agent.gpu-deadline", "400ms").start();
            processes.add(p);
            agents.put(node, p);
        }

        // Every agent registered, every GPU judged HEALTHY and leasable.
        FakeNvml.eventually(START, () -> {
            Map<String, Integer> leasable = leasablePerNode();
            assertEquals(Map.of("node-0", GPUS, "node-1", GPUS, "node-2", GPUS), leasable);
        });

        // 20 jobs; when the cluster cannot hold the next one, the oldest jobs are released first.
        int[] sizes = {1, 2, 4, 1, 2, 4, 2, 1, 4, 4, 1, 2, 2, 1, 4, 2, 1, 4, 2, 1};
        Deque<JsonNode> live = new ArrayDeque<>();
        Map<String, Set<String>> taken = new HashMap<>();   // node -> uuids held by live placements
        int splits = 0;
        for (int j = 0; j < sizes.length; j++) {
            int want = sizes[j];
            while (3 * GPUS - held(taken) < want) {
                release(live.removeFirst(), taken);
            }
            List<Integer> freeBefore = new ArrayList<>();
            Map<String, Integer> expected = new HashMap<>();
            for (String node : agents.keySet()) {
                freeBefore.add(GPUS - taken.getOrDefault(node, Set.of()).size());
                expected.put(node, GPUS - taken.getOrDefault(node, Set.of()).size());
            }
            // The coordinator learns of released leases from the agents' heartbeats (within a sample interval):
            // place once it sees what the test released, so the choice can be judged against the true free set.
            FakeNvml.eventually(Duration.ofSeconds(15), () -> assertEquals(expected, leasablePerNode()));
            HttpResponse<String> r = place("job-" + j, want);
            assertEquals(201, r.statusCode(), "job " + j + " (" + want + " GPUs): " + r.body());
            JsonNode p = JSON.readTree(r.body());
            int got = 0;
            for (JsonNode a : p.get("allocations")) {
                String node = a.get("node").asText();
                Set<String> mine = taken.computeIfAbsent(node, k -> new HashSet<>());
                for (JsonNode u : a.get("gpus")) {
                    assertTrue(mine.add(u.asText()), "job " + j + ": " + node + " " + u + " is already placed");
                    got++;
                }
                assertLeaseLive(a);
            }
            assertEquals(want, got, "job " + j + ": " + r.body());
            int nodes = p.get("allocations").size();
            assertEquals(fewestNodes(freeBefore, want), nodes, "job " + j + " spans more nodes than needed: " + r.body());
            splits += nodes > 1 ? 1 : 0;
            live.addLast(p);
        }
        assertTrue(splits >= 1, "the sequence was chosen so that some job must span nodes");
        while (!live.isEmpty()) {
            release(live.removeFirst(), taken);
        }

        // node-1's GPU 1 is lost; once its heartbeat says so, it is never chosen: the other 11 are, then 409.
        String lostUuid = gpu("node-1", 1).get("uuid").asText();
        agents.get("node-1").scenario("gpus = " + GPUS + "\ngpu.1.lost = 1\n");
        FakeNvml.eventually(Duration.ofSeconds(20), () -> {
            JsonNode g = gpu("node-1", 1);
            assertFalse(g.get("leasable").asBoolean(), g.toString());
            assertEquals(Map.of("node-0", GPUS, "node-1", GPUS - 1, "node-2", GPUS), leasablePerNode());
        });
        Set<String> chosen = new HashSet<>();
        for (int k = 0; k < 11; k++) {
            HttpResponse<String> r = place("after-loss-" + k, 1);
            assertEquals(201, r.statusCode(), r.body());
            JsonNode a = JSON.readTree(r.body()).get("allocations").get(0);
            String uuid = a.get("gpus").get(0).asText();
            // The fake driver numbers UUIDs by index, so the node tells the GPUs of different agents apart.
            assertFalse(a.get("node").asText().equals("node-1") && uuid.equals(lostUuid), "the lost GPU was placed: " + r.body());
            assertTrue(chosen.add(a.get("node").asText() + "/" + uuid));
            live.add(JSON.readTree(r.body()));
        }
        HttpResponse<String> full = place("after-loss-11", 1);
        assertEquals(409, full.statusCode(), full.body());
        assertTrue(full.body().contains("LOST"), full.body());
        while (!live.isEmpty()) {
            release(live.removeFirst(), new HashMap<>());
        }

        // node-2 dies without a word: dropped after the node timeout, never chosen again.
        agents.get("node-2").kill9();
        FakeNvml.eventually(NODE_TIMEOUT.multipliedBy(5), () -> assertFalse(nodes().contains("node-2"), nodes().toString()));
        assertTrue(events().contains("node node-2 dropped"), "the drop is in the coordinator's event log");
        for (int k = 0; k < 7; k++) {
            HttpResponse<String> r = place("after-drop-" + k, 1);
            assertEquals(201, r.statusCode(), r.body());
            assertFalse(r.body().contains("node-2"), r.body());
        }
        HttpResponse<String> none = place("after-drop-7", 1);
        assertEquals(409, none.statusCode(), none.body());
        assertFalse(none.body().contains("node-2:"), none.body());
    }

    /** Fewest nodes that can hold {@code want} GPUs, given each node's free GPUs. */
    static int fewestNodes(List<Integer> free, int want) {
        List<Integer> sorted = new ArrayList<>(free);
        sorted.sort((a, b) -> b - a);
        int n = 0;
        for (int f : sorted) {
            want -= f;
            n++;
            if (want <= 0) {
                return n;
            }
        }
        throw new AssertionError("does not fit: " + free);
    }

    private void assertLeaseLive(JsonNode allocation) throws IOException, InterruptedException {
        String url = allocation.get("agentUrl").asText() + "/v1/leases/" + allocation.get("leaseId").asText();
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), url + ": " + r.body());
        JsonNode lease = JSON.readTree(r.body());
        assertEquals(allocation.get("gpus"), lease.get("gpus"), url);
        assertEquals(allocation.get("fencingToken").asLong(), lease.get("fencingToken").asLong(), url);
    }

    private void release(JsonNode placement, Map<String, Set<String>> taken) throws Exception {
        String id = placement.get("placementId").asText();
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(coordinator("/v1/placements/" + id))
                .header("Authorization", "Bearer " + token).DELETE().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(204, r.statusCode(), "release " + id + ": " + r.body());
        for (JsonNode a : placement.get("allocations")) {
            Set<String> mine = taken.getOrDefault(a.get("node").asText(), new HashSet<>());
            a.get("gpus").forEach(u -> mine.remove(u.asText()));
            String lease = a.get("agentUrl").asText() + "/v1/leases/" + a.get("leaseId").asText();
            assertEquals(404, HTTP.send(HttpRequest.newBuilder(URI.create(lease)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode(), "released on the agent: " + lease);
        }
    }

    private static int held(Map<String, Set<String>> taken) {
        return taken.values().stream().mapToInt(Set::size).sum();
    }

    private HttpResponse<String> place(String jobId, int gpus) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(coordinator("/v1/placements"))
                .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"jobId\":\"" + jobId + "\",\"gpus\":" + gpus
                        + ",\"constraints\":{\"ttlSeconds\":600}}")).build(), HttpResponse.BodyHandlers.ofString());
    }

    private Map<String, Integer> leasablePerNode() {
        Map<String, Integer> out = new HashMap<>();
        for (JsonNode n : get("/v1/nodes")) {
            int c = 0;
            for (JsonNode g : n.get("inventory").get("gpus")) {
                c += g.get("leasable").asBoolean() ? 1 : 0;
            }
            out.put(n.get("node").asText(), c);
        }
        return out;
    }

    private JsonNode gpu(String node, int index) {
        for (JsonNode n : get("/v1/nodes")) {
            if (n.get("node").asText().equals(node)) {
                return n.get("inventory").get("gpus").get(index);
            }
        }
        throw new AssertionError(node + " is not registered");
    }

    private List<String> nodes() {
        List<String> out = new ArrayList<>();
        get("/v1/nodes").forEach(n -> out.add(n.get("node").asText()));
        return out;
    }

    private String events() {
        return get("/v1/events?limit=1000").toString();
    }

    private JsonNode get(String path) {
        try {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(coordinator(path)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), path + ": " + r.body());
            return JSON.readTree(r.body());
        } catch (IOException | InterruptedException e) {
            throw new AssertionError("coordinator not answering yet: " + e, e);
        }
    }

    private URI coordinator(String path) {
        return URI.create("http://127.0.0.1:" + coordinatorPort + path);
    }
}
