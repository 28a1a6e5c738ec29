package io.gpuagent.agent.coordinator;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The coordinator with one credential per role (docs/security.md): node credentials bound to their names, a
 * node name that only an operator can move to another URL, placements for the scheduler only, the coordinator's
 * own credential sent to agents, and a lease answer's env cut down to the allow-list.
 */
@QuarkusTest
@TestProfile(CoordinatorRolesTest.Roles.class)
class CoordinatorRolesTest {

    static final Path DIR = Path.of("target/roles-test-" + ProcessHandle.current().pid());
    static final String OPERATOR = "op-" + UUID.randomUUID();
    static final String SCHEDULER = "sched-" + UUID.randomUUID();
    static final String COORDINATOR = "coord-" + UUID.randomUUID();

    public static class Roles implements QuarkusTestProfile {
        /** Node timeouts must not run out while a busy machine is between a test's two requests. */
        @Override
        public Set<Class<?>> getEnabledAlternatives() {
            return Set.of(StoppedClock.class);
        }

        @Override
        public Map<String, String> getConfigOverrides() {
            try {
                Files.createDirectories(DIR.resolve("nodes"));
                Files.createDirectories(DIR.resolve("coordinator-tokens"));
                write(DIR.resolve("operator"), OPERATOR);
                write(DIR.resolve("scheduler"), SCHEDULER);
                write(DIR.resolve("coordinator"), COORDINATOR);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return Map.of("gpu-agent.role", "coordinator",
                    "gpu-agent.coordinator.node-timeout", "3s",
                    "gpu-agent.coordinator.heartbeat-interval", "300ms",
                    "gpu-agent.coordinator.request-timeout", "2s",
                    "gpu-agent.state-dir", DIR.resolve("state").toString(),
                    "gpu-agent.auth.operator-token-file", DIR.resolve("operator").toString(),
                    "gpu-agent.auth.scheduler-token-file", DIR.resolve("scheduler").toString(),
                    "gpu-agent.auth.coordinator-token-file", DIR.resolve("coordinator").toString(),
                    "gpu-agent.auth.node-token-dir", DIR.resolve("nodes").toString(),
                    "gpu-agent.auth.coordinator-token-dir", DIR.resolve("coordinator-tokens").toString());
        }
    }

    @TestHTTPResource("/v1/nodes/heartbeat")
    URI heartbeat;

    private final List<FakeAgent> agents = new ArrayList<>();

    @AfterEach
    void retireAgents() {
        agents.forEach(FakeAgent::close);
        agents.clear();
    }

    /**
     * A node with its own credential in the coordinator's node directory, and an agent that accepts only the
     * coordinator credential made for it ({@code coordinator-token-dir/<node>}).
     */
    FakeAgent node(String prefix, int gpus) throws Exception {
        String name = prefix + "-" + System.nanoTime() % 100_000;
        String token = "node-" + UUID.randomUUID();
        String forAgent = "coord-for-" + name + "-" + UUID.randomUUID();
        write(DIR.resolve("nodes").resolve(name), token);
        write(DIR.resolve("coordinator-tokens").resolve(name), forAgent);
        FakeAgent a = new FakeAgent(name, gpus, heartbeat, () -> token, () -> forAgent);
        agents.add(a);
        return a;
    }

    @Test
    void aNodeCredentialHeartbeatsOnlyUnderItsOwnName() throws Exception {
        FakeAgent a = node("a", 1);
        FakeAgent b = node("b", 1);
        String aToken = Files.readString(DIR.resolve("nodes").resolve(a.node())).strip();
        assertEquals(200, a.sendHeartbeat());
        Response asB = heartbeat("Bearer " + aToken, b);   // b's path and body, a's credential
        assertEquals(403, asB.statusCode(), asB.asString());
        assertTrue(asB.jsonPath().getString("detail").contains("only heartbeat under its own name"), asB.asString());
        assertEquals(401, heartbeat(null, a).statusCode());
        assertEquals(403, heartbeat("Bearer " + OPERATOR, a).statusCode(), "the operator is no node");
        given().get("/v1/nodes").then().body("node", org.hamcrest.Matchers.not(org.hamcrest.Matchers.hasItem(b.node())));
    }

    @Test
    void aHeartbeatCannotMoveANodeToAnotherUrlUntilAnOperatorForgetsIt() throws Exception {
        FakeAgent a = node("moving", 1);
        assertEquals(200, a.sendHeartbeat());
        String before = a.url();
        a.claimedUrl = "http://127.0.0.1:1";   // e.g. a stolen node credential pointing the name elsewhere
        Response moved = heartbeat(a);
        assertEquals(409, moved.statusCode(), moved.asString());
        assertTrue(moved.jsonPath().getString("detail").contains("/v1/nodes/" + a.node() + "/forget"), moved.asString());
        // The binding outlives the registration (node-timeout is 3 s, which a loaded machine can pass between
        // two requests), so it is judged by the first URL still being accepted, right before the read.
        a.claimedUrl = before;
        assertEquals(200, heartbeat(a).statusCode(), "the first URL is still the node's");
        assertEquals(before, agentUrl(a.node()), "the registration still points at the first URL");
        a.claimedUrl = "http://127.0.0.1:1";

        given().post("/v1/nodes/" + a.node() + "/forget").then().statusCode(401);
        given().header("Authorization", "Bearer " + SCHEDULER).post("/v1/nodes/" + a.node() + "/forget").then()
                .statusCode(403).body("detail", containsString("needs the operator credential"));
        given().header("Authorization", "Bearer " + OPERATOR).post("/v1/nodes/" + a.node() + "/forget").then()
                .statusCode(204);
        given().header("Authorization", "Bearer " + OPERATOR).post("/v1/nodes/nobody/forget").then().statusCode(404);
        assertEquals(200, heartbeat(a).statusCode());
        assertEquals("http://127.0.0.1:1", agentUrl(a.node()));
    }

    @Test
    void placementsNeedTheSchedulerAndTheCoordinatorCallsAgentsWithItsOwnCredential() throws Exception {
        FakeAgent a = node("sched", 2);
        assertEquals(200, a.sendHeartbeat());
        String body = "{\"jobId\":\"roles-job\",\"gpus\":1}";
        given().header("Authorization", "Bearer " + OPERATOR).contentType("application/json").body(body)
                .post("/v1/placements").then().statusCode(403).contentType("application/problem+json")
                .body("detail", containsString("needs the scheduler credential"));
        Response r = place(body);
        assertEquals(201, r.statusCode(), r.asString());   // FakeAgent grants only with the coordinator credential
        String id = r.jsonPath().getString("placementId");
        given().header("Authorization", "Bearer " + COORDINATOR).delete("/v1/placements/" + id).then().statusCode(403);
        given().header("Authorization", "Bearer " + SCHEDULER).delete("/v1/placements/" + id).then().statusCode(204);
    }

    /** Issue 19: the coordinator's credential sent to one node's agentUrl is of no use on another agent. */
    @Test
    void aRogueNodeCapturesOnlyTheCredentialMadeForItsOwnAgent() throws Exception {
        FakeAgent rogue = node("rogue", 3);
        FakeAgent victim = node("victim", 4);
        assertEquals(200, rogue.sendHeartbeat());
        assertEquals(200, victim.sendHeartbeat());
        Response r = place("{\"jobId\":\"harvest-job\",\"gpus\":3}");
        assertEquals(201, r.statusCode(), r.asString());
        assertEquals(rogue.node(), r.jsonPath().getString("allocations[0].node"), "best fit sends it to the rogue");
        String captured = rogue.authorizations.getFirst();
        String victimAccepts = "Bearer " + Files.readString(DIR.resolve("coordinator-tokens").resolve(victim.node())).strip();
        assertTrue(captured.startsWith("Bearer "), captured);
        assertFalse(captured.equals(victimAccepts), "the rogue got the victim's credential");
        assertFalse(captured.contains(COORDINATOR), "the single coordinator-token-file is never sent");
        HttpResponse<String> replayed = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create(victim.url() + "/v1/leases")).header("Authorization", captured)
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"jobId\":\"stolen\",\"gpus\":4}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(403, replayed.statusCode(), replayed.body());
        assertEquals(Set.of(), victim.leasedUuids());
        given().header("Authorization", "Bearer " + SCHEDULER).delete("/v1/placements/"
                + r.jsonPath().getString("placementId")).then().statusCode(204);
    }

    @Test
    void aLeaseAnswersEnvIsCutDownToTheAllowList() throws Exception {
        FakeAgent a = node("env", 1);
        a.extraEnv.put("LD_PRELOAD", "/tmp/evil.so");
        a.extraEnv.put("PATH", "/tmp");
        a.extraEnv.put("CUDA_DEVICE_ORDER", "PCI_BUS_ID");
        a.extraEnv.put("NVIDIA_VISIBLE_DEVICES", "$(touch /tmp/pwned)");
        assertEquals(200, a.sendHeartbeat());
        Response r = place("{\"jobId\":\"env-job\",\"gpus\":1}");
        assertEquals(201, r.statusCode(), r.asString());
        Map<String, String> env = r.jsonPath().getMap("allocations[0].env");
        assertEquals(Map.of("CUDA_VISIBLE_DEVICES", "0", "CUDA_DEVICE_ORDER", "PCI_BUS_ID"), env);
        JsonPath stored = given().get("/v1/placements/" + r.jsonPath().getString("placementId")).then().statusCode(200)
                .extract().jsonPath();
        assertEquals(env, stored.getMap("allocations[0].env"));
    }

    private static Response place(String body) {
        return given().header("Authorization", "Bearer " + SCHEDULER).contentType("application/json").body(body)
                .post("/v1/placements");
    }

    private Response heartbeat(FakeAgent a) throws IOException {
        return heartbeat("Bearer " + Files.readString(DIR.resolve("nodes").resolve(a.node())).strip(), a);
    }

    private static Response heartbeat(String authorization, FakeAgent a) throws IOException {
        var spec = given().contentType("application/json").body(FakeAgent.JSON.writeValueAsString(a.inventory()));
        if (authorization != null) {
            spec = spec.header("Authorization", authorization);
        }
        return spec.post("/v1/nodes/" + a.node() + "/heartbeat");
    }

    private static String agentUrl(String node) {
        JsonPath nodes = given().get("/v1/nodes").then().statusCode(200).extract().jsonPath();
        return nodes.getString("find { it.node == '" + node + "' }.agentUrl");
    }

    static void write(Path file, String token) throws IOException {
        Files.deleteIfExists(file);
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(file, token + "\n");
    }
}
