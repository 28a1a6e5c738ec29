package io.gpuagent.agent.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import io.gpuagent.agent.PackagedAgent;
import io.gpuagent.nvml.fake.FakeNvml;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 19, a real coordinator and a real agent (packaged jars, the agent on the fake driver) and a rogue node:
 * a JDK HTTP server that holds only its own node credential, registers its own agentUrl with 3 GPUs and so gets
 * the next 3-GPU placement first (best fit). On 32cc55f the lease call it received carried the cluster's single
 * coordinator token, with which it leased every GPU of the victim for a week and released its jobs' leases;
 * now it captures only the token made for it, which the victim refuses with 403. Then a 10 MB heartbeat with a
 * wrong token, which 32cc55f parsed before checking (and died of): refused before its body is sent, the
 * coordinator alive; and the node bindings, which 32cc55f kept in memory only, survive a coordinator restart.
 */
class FaultInjectionCredentialHarvestIT {

    static final ObjectMapper JSON = new ObjectMapper();
    static final String CASE = "credential harvest by a rogue node (issue 19)";

    private final List<PackagedAgent> processes = new CopyOnWriteArrayList<>();
    private HttpServer rogue;

    @AfterEach
    void stop() {
        processes.forEach(PackagedAgent::close);
        if (rogue != null) {
            rogue.stop(0);
        }
    }

    @Test
    void aRogueNodeHarvestsNoUsableCredentialAndABigWrongHeartbeatIsRefusedUnread() throws Exception {
        Path dir = Path.of("target", "it-agents", "harvest-" + System.nanoTime()).toAbsolutePath();
        String scheduler = "sched-" + UUID.randomUUID();
        String operator = "op-" + UUID.randomUUID();
        String victimNode = "node-" + UUID.randomUUID();
        String rogueNode = "rogue-" + UUID.randomUUID();
        String forVictim = "coord-victim-" + UUID.randomUUID();
        String forRogue = "coord-rogue-" + UUID.randomUUID();
        Path schedulerFile = PackagedAgent.writeCredential(dir.resolve("scheduler-token"), scheduler);
        Path operatorFile = PackagedAgent.writeCredential(dir.resolve("operator-token"), operator);
        Path victimNodeFile = PackagedAgent.writeCredential(dir.resolve("nodes").resolve("victim"), victimNode);
        PackagedAgent.writeCredential(dir.resolve("nodes").resolve("rogue"), rogueNode);
        PackagedAgent.writeCredential(dir.resolve("coordinator-tokens").resolve("victim"), forVictim);
        PackagedAgent.writeCredential(dir.resolve("coordinator-tokens").resolve("rogue"), forRogue);
        Path victimAccepts = PackagedAgent.writeCredential(dir.resolve("victim-coordinator-token"), forVictim);

        PackagedAgent coordinator = PackagedAgent.named("harvest-coordinator").noDriver()
                .property("gpu-agent.role", "coordinator")
                .property("gpu-agent.auth.scheduler-token-file", schedulerFile)
                .property("gpu-agent.auth.operator-token-file", operatorFile)
                .property("gpu-agent.auth.node-token-dir", dir.resolve("nodes"))
                .property("gpu-agent.auth.coordinator-token-dir", dir.resolve("coordinator-tokens"))
                .property("gpu-agent.coordinator.allow-loopback-agents", "true")
                .property("gpu-agent.coordinator.node-timeout", "30s").start();
        processes.add(coordinator);
        coordinator.awaitLog("Listening on", PackagedAgent.START);
        PackagedAgent victim = PackagedAgent.named("harvest-victim").scenario("gpus = 4\n")
                .property("gpu-agent.hostname", "victim").property("gpu-agent.advertise-url", "http://127.0.0.1:{port}")
                .property("gpu-agent.auth.scheduler-token-file", schedulerFile)
                .property("gpu-agent.auth.coordinator-token-file", victimAccepts)
                .property("gpu-agent.auth.node-token-file", victimNodeFile)
                .property("gpu-agent.coordinator.url", "http://127.0.0.1:" + coordinator.port())
                .property("gpu-agent.coordinator.heartbeat-interval", "500ms").start();
        processes.add(victim);

        // The rogue: its own agentUrl, 3 GPUs, and it keeps whatever Authorization header it is sent.
        List<String> captured = new CopyOnWriteArrayList<>();
        rogue = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        rogue.createContext("/v1/leases", ex -> {
            try (ex) {
                String a = ex.getRequestHeaders().getFirst("Authorization");
                captured.add(a == null ? "" : a);
                ex.sendResponseHeaders(500, -1);   // the coordinator then tries the victim, as it would
            }
        });
        rogue.start();
        String rogueUrl = "http://127.0.0.1:" + rogue.getAddress().getPort();
        FakeNvml.eventually(PackagedAgent.START, () -> assertEquals(4, leasable(coordinator, "victim")));
        assertEquals(200, heartbeat(coordinator, "rogue", rogueNode, inventory("rogue", rogueUrl, 3)).statusCode());

        HttpResponse<String> placed = coordinator.send("POST", "/v1/placements", scheduler,
                "{\"jobId\":\"harvest-1\",\"gpus\":3}");
        assertFalse(captured.isEmpty(), "best fit asked the rogue first: " + placed.body());
        String stolen = captured.getFirst();
        assertTrue(stolen.equals("Bearer " + forRogue), "the rogue got only its own agent's credential");
        HttpResponse<String> weekLease = send(victim, "POST", "/v1/leases", stolen, "{\"jobId\":\"stolen\",\"gpus\":4,\"ttlSeconds\":604800}");
        boolean refused = weekLease.statusCode() == 403;
        FaultReport.row(CASE, "a 4-GPU 7-day lease on another agent with the captured token: " + weekLease.statusCode(),
                "403", refused);
        assertTrue(refused, weekLease.body());
        assertEquals(201, placed.statusCode(), "the placement went to the victim after the rogue failed: " + placed.body());
        String leaseId = JSON.readTree(placed.body()).at("/allocations/0/leaseId").asText();
        HttpResponse<String> release = send(victim, "DELETE", "/v1/leases/" + leaseId, stolen, null);
        assertEquals(403, release.statusCode(), "the captured token cannot end a running job's lease either");

        assertTrue(coordinator.isAlive());
        assertEquals(200, coordinator.get("/v1/nodes").statusCode(), "the coordinator still answers");

        // The bindings survive a restart: the victim's name still cannot be moved with its stolen node token.
        coordinator.restart();
        coordinator.awaitLog("Listening on", PackagedAgent.START);
        HttpResponse<String> moved = heartbeat(coordinator, "victim", victimNode,
                inventory("victim", rogueUrl, 4));
        boolean kept = moved.statusCode() == 409;
        FaultReport.row(CASE, "after a coordinator restart, a heartbeat moving node victim to the rogue's URL: "
                + moved.statusCode(), "409 (binding kept)", kept);
        assertTrue(kept, moved.body());
        assertEquals(200, heartbeat(coordinator, "rogue", rogueNode, inventory("rogue", rogueUrl, 3)).statusCode());
        assertEquals(204, send(coordinator, "POST", "/v1/nodes/victim/forget", operator, null).statusCode());
        assertEquals(200, heartbeat(coordinator, "victim", victimNode, inventory("victim", rogueUrl, 4)).statusCode(),
                "an operator's forget frees the name");

        // A 10 MB heartbeat under the victim's name with a wrong token: answered before the body is sent. The
        // control is the same refusal of a 2-byte body, interleaved, so both see the same load on the machine.
        for (int i = 0; i < 5; i++) {
            refusedAfterHeadersMs(coordinator, "/v1/nodes/victim/heartbeat", Body.SMALL);   // warm-up
        }
        double[] ms = new double[30];
        double[] control = new double[30];
        for (int i = 0; i < ms.length; i++) {
            ms[i] = refusedAfterHeadersMs(coordinator, "/v1/nodes/victim/heartbeat", i % 2 == 0 ? Body.DECLARED : Body.CHUNKED);
            control[i] = refusedAfterHeadersMs(coordinator, "/v1/nodes/victim/heartbeat", Body.SMALL);
        }
        Arrays.sort(ms);
        Arrays.sort(control);
        double p50 = FaultReport.quantile(ms, 0.5);
        String figure = "10 MB heartbeat with a wrong token, last header byte to the 403 (body never sent): "
                + FaultReport.summary(ms) + " (a 2-byte one: " + FaultReport.summary(control) + ")";
        assertTrue(coordinator.isAlive());
        assertEquals(200, coordinator.get("/v1/nodes").statusCode(), "the coordinator still answers");
        if (p50 >= 10 && FaultReport.quantile(control, 0.5) >= 10) {
            FaultReport.skipped(CASE, figure + "; not judged: the 2-byte control missed 10 ms too, the machine is "
                    + "too loaded");
            org.junit.jupiter.api.Assumptions.abort("machine too loaded to judge 10 ms: " + figure);
        }
        boolean fast = FaultReport.row(CASE, figure, "p50 < 10 ms", p50 < 10);
        assertTrue(fast, figure);
    }

    /** Today's .deb layout on a coordinator (one coordinator-token-file, no directory, no certificate). */
    @Test
    void todaysSingleCoordinatorTokenOnACoordinatorRefusesToStartAndNamesTheChange() throws Exception {
        Path dir = Path.of("target", "it-agents", "harvest-single-" + System.nanoTime()).toAbsolutePath();
        Path single = PackagedAgent.writeCredential(dir.resolve("coordinator-token"), "one-for-all-" + UUID.randomUUID());
        PackagedAgent coordinator = PackagedAgent.named("harvest-single").noDriver()
                .property("gpu-agent.role", "coordinator")
                .property("gpu-agent.auth.coordinator-token-file", single).start();
        processes.add(coordinator);
        int exit = coordinator.waitForExit(PackagedAgent.START);
        assertTrue(exit != 0, "exit " + exit);
        String log = coordinator.log();
        assertTrue(log.contains("the coordinator refuses to start") && log.contains("gpu-agent.auth.coordinator-token-dir")
                && log.contains("client certificate"), log);
        assertFalse(log.contains(Files.readString(single).strip()), "the token is never logged");
    }

    private static HttpResponse<String> send(PackagedAgent a, String method, String path, String authorization,
                                             String body) {
        return a.send(method, path, authorization.startsWith("Bearer ") ? authorization.substring(7) : authorization,
                body);
    }

    private static HttpResponse<String> heartbeat(PackagedAgent coordinator, String node, String token, JsonNode inv) {
        return coordinator.send("POST", "/v1/nodes/" + node + "/heartbeat", token, inv.toString());
    }

    private static int leasable(PackagedAgent coordinator, String node) {
        JsonNode nodes;
        try {
            nodes = JSON.readTree(coordinator.body("/v1/nodes"));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        for (JsonNode n : nodes) {
            if (n.get("node").asText().equals(node)) {
                int count = 0;
                for (JsonNode g : n.at("/inventory/gpus")) {
                    count += g.get("leasable").asBoolean() ? 1 : 0;
                }
                return count;
            }
        }
        return 0;
    }

    /** An agent's inventory as the heartbeat carries it. */
    private static JsonNode inventory(String node, String url, int gpus) {
        ObjectNode inv = JSON.createObjectNode().put("node", node).put("agentUrl", url)
                .put("takenAt", Instant.now().toString()).put("healthy", true);
        ArrayNode list = inv.putArray("gpus");
        for (int i = 0; i < gpus; i++) {
            ObjectNode g = list.addObject().put("index", i).put("uuid", "GPU-" + node + "-" + i)
                    .put("name", "NVIDIA H100").put("pciBusId", "00000000:1" + i + ":00.0").put("health", "HEALTHY")
                    .put("cordoned", false).put("memoryTotalMiB", 81559).put("memoryFreeMiB", 81000)
                    .put("leasable", true);
            g.putArray("reasons");
            g.putNull("lease");
        }
        inv.putArray("links");
        return inv;
    }

    /** What follows the headers: nothing of a declared or chunked 10 MB body, or a whole 2-byte one. */
    enum Body { DECLARED, CHUNKED, SMALL }

    /**
     * Milliseconds from the last byte sent (the headers; for SMALL, its body) of a POST with a wrong token to
     * its status line. DECLARED and CHUNKED announce 10 MB and send none of it: a server that read the body
     * first would never answer.
     */
    private static double refusedAfterHeadersMs(PackagedAgent a, String path, Body body) throws IOException {
        try (Socket s = new Socket("127.0.0.1", a.port())) {
            s.setSoTimeout(10_000);
            s.setTcpNoDelay(true);
            String head = "POST " + path + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Authorization: Bearer wrong-" + UUID.randomUUID() + "\r\n"
                    + switch (body) {
                        case DECLARED -> "Content-Length: 10000000\r\n\r\n";
                        case CHUNKED -> "Transfer-Encoding: chunked\r\n\r\n";
                        case SMALL -> "Content-Length: 2\r\n\r\n{}";
                    };
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            out.write(head.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            long sent = System.nanoTime();
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            for (int b = in.read(); b >= 0 && b != '\n'; b = in.read()) {
                line.write(b);
            }
            double ms = (System.nanoTime() - sent) / 1e6;
            String status = line.toString(StandardCharsets.US_ASCII);
            // 403 from the credential check; 413 where the declared length is over quarkus.http.limits.max-body-size,
            // which Vert.x answers from the headers before the credential is looked at: unread either way.
            assertTrue(status.startsWith("HTTP/1.1 403") || status.startsWith("HTTP/1.1 413"), "answered " + status);
            return ms;
        }
    }
}
