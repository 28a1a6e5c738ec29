package io.gpuagent.agent.coordinator;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.gpuagent.agent.TestToken;
import io.gpuagent.agent.lease.Inventory;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import java.net.URI;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Placement of MIG devices by profile through the coordinator's API, with agents simulated by {@link FakeAgent}
 * with GPUs in MIG mode, and the MIG part of the heartbeat: bounded, within the body limit at its worst, and
 * optional (agents older than MIG leases send none).
 */
@QuarkusTest
@TestProfile(CoordinatorApiTest.CoordinatorRole.class)
class MigPlacementApiTest {

    @TestHTTPResource("/v1/nodes/heartbeat")
    URI heartbeat;

    private final List<FakeAgent> agents = new ArrayList<>();

    @AfterEach
    void retireAgents() {
        agents.forEach(FakeAgent::close);
        agents.clear();
    }

    private FakeAgent agent(String node, int gpus, Map<Integer, List<String>> layout) throws Exception {
        FakeAgent a = new FakeAgent(node + "-" + System.nanoTime() % 100_000, gpus, heartbeat, TestToken::get);
        a.migLayout.putAll(layout);
        agents.add(a);
        return a.heartbeatEvery(CoordinatorApiTest.BEAT);
    }

    private static Response placeMig(String jobId, String mig, String constraints) {
        String body = "{\"jobId\":\"" + jobId + "\",\"mig\":" + mig
                + (constraints == null ? "" : ",\"constraints\":" + constraints) + "}";
        return given().header("Authorization", "Bearer " + TestToken.get()).contentType("application/json").body(body)
                .post("/v1/placements");
    }

    @Test
    void placesByProfileOnTheNodeThatFitsBestAndNeverAMigGpuWhole() throws Exception {
        // small: GPU 0 in MIG mode (1g.10gb x3, 3g.40gb x1), GPU 1 whole; big: one GPU with 1g.10gb x7.
        FakeAgent small = agent("mig-small", 2, Map.of(0, List.of("1g.10gb", "1g.10gb", "1g.10gb", "3g.40gb")));
        FakeAgent big = agent("mig-big", 1, Map.of(0, Collections.nCopies(7, "1g.10gb")));

        Response r = placeMig("job-mig-a", "{\"profile\":\"1g.10gb\",\"count\":3}", "{\"ttlSeconds\":600}");
        assertEquals(201, r.statusCode(), r.asString());
        JsonPath p = r.jsonPath();
        assertEquals(small.node(), p.getString("allocations[0].node"), "best fit: no 1g.10gb left over there");
        List<String> three = List.of(small.migUuid(0, 1), small.migUuid(0, 2), small.migUuid(0, 3));
        assertEquals(three, p.getList("allocations[0].gpus"));
        assertEquals(String.join(",", three), p.getString("allocations[0].env.CUDA_VISIBLE_DEVICES"));
        assertEquals(List.of("0/1", "0/2", "0/3"), p.getList("allocations[0].mig.address"));
        assertEquals(small.uuid(0), p.getString("allocations[0].mig[0].parentUuid"));
        assertEquals(three, toStrings(small.leaseRequests.getLast().get("uuids")), "the agent is asked by MIG UUID");
        assertEquals(Set.copyOf(three), small.leasedUuids());

        // The next 1g.10gb go to big at once (held until its heartbeat shows the lease), the 3g.40gb to small.
        Response next = placeMig("job-mig-b", "{\"profile\":\"1g.10gb\",\"count\":2}", null);
        assertEquals(201, next.statusCode(), next.asString());
        assertEquals(List.of(big.migUuid(0, 1), big.migUuid(0, 2)), next.jsonPath().getList("allocations[0].gpus"));
        Response fat = placeMig("job-mig-c", "{\"profile\":\"3g.40gb\",\"count\":1}", null);
        assertEquals(List.of(small.migUuid(0, 4)), fat.jsonPath().getList("allocations[0].gpus"), fat.asString());

        // No node holds 6 more 1g.10gb (a MIG placement never spans nodes); the detail says what each has: its
        // devices are "not leasable" (held by this coordinator) until the agents' next heartbeats show the leases.
        String detail = "";
        for (long until = System.nanoTime() + 10_000_000_000L; System.nanoTime() < until; Thread.sleep(50)) {
            Response none = placeMig("job-mig-d", "{\"profile\":\"1g.10gb\",\"count\":6}", null);
            assertEquals(409, none.statusCode(), none.asString());
            detail = none.jsonPath().getString("detail");
            if (detail.contains("(2 leased)") && detail.contains("(3 leased)")) {
                break;
            }
        }
        assertTrue(detail.startsWith("nothing fits 6 MIG device(s) of profile 1g.10gb now"), detail);
        assertTrue(detail.contains(big.node() + ": 5 of 7 1g.10gb MIG devices leasable (2 leased)"), detail);
        assertTrue(detail.contains(small.node() + ": 0 of 3 1g.10gb MIG devices leasable (3 leased)"), detail);

        // Whole GPUs: only small's GPU 1; big's GPU and small's GPU 0 are in MIG mode.
        Response whole = CoordinatorApiTest.place("job-whole", 2, null);
        assertEquals(409, whole.statusCode(), whole.asString());
        assertTrue(whole.jsonPath().getString("detail").contains(big.node() + ": 0 of 1 leasable (1 in MIG mode)"),
                whole.asString());
        Response one = CoordinatorApiTest.place("job-whole", 1, null);
        assertEquals(List.of(small.uuid(1)), one.jsonPath().getList("allocations[0].gpus"), one.asString());
    }

    @Test
    void migPlacementRequestsAreCheckedStrictly() {
        for (String[] bad : new String[][] {
                {"{\"jobId\":\"j\",\"gpus\":1,\"mig\":{\"profile\":\"1g.10gb\",\"count\":1}}", "exactly one of"},
                {"{\"jobId\":\"j\",\"mig\":{\"profile\":\"1g.10gb\",\"count\":1},\"constraints\":{\"sameNvlinkDomain\":true}}",
                        "cannot be asked for MIG devices"},
                {"{\"jobId\":\"j\",\"mig\":{\"profile\":\"1g.10GB\",\"count\":1}}", "\"mig.profile\" must be a MIG profile"},
                {"{\"jobId\":\"j\",\"mig\":{\"profile\":\"1g.10gb\",\"count\":0}}", "\"mig.count\" must be at least 1"},
                {"{\"jobId\":\"j\",\"mig\":{\"profile\":\"1g.10gb\",\"count\":\"2\"}}", "\"mig.count\" must be a whole number"},
                {"{\"jobId\":\"j\",\"mig\":{\"profile\":\"1g.10gb\"}}", "\"mig.count\" is required"},
                {"{\"jobId\":\"j\",\"mig\":{\"profile\":\"1g.10gb\",\"count\":1,\"gi\":3}}", "unknown field \"mig.gi\""},
                {"{\"jobId\":\"j\",\"mig\":\"1g.10gb\"}", "\"mig\" must be an object"}}) {
            given().header("Authorization", "Bearer " + TestToken.get()).contentType("application/json").body(bad[0])
                    .post("/v1/placements").then().statusCode(400).body("detail", containsString(bad[1]));
        }
    }

    @Test
    void aWorstCaseMigHeartbeatFitsAndMoreThanSevenPerGpuIsRefused() throws Exception {
        // 64 GPUs, every pair linked, each in MIG mode with 7 MIG devices, each leased.
        String node = "mig-max-" + System.nanoTime() % 100_000;
        TestToken.forNode(node);
        Inventory inv = worstCase(node, Inventory.MAX_MIG_PER_GPU);
        String body = FakeAgent.JSON.writeValueAsString(inv);
        given().header("Authorization", "Bearer " + TestToken.get()).contentType("application/json").body(body)
                .post("/v1/nodes/" + node + "/heartbeat").then().statusCode(200);
        JsonPath nodes = given().get("/v1/nodes").then().statusCode(200).extract().jsonPath();
        int i = nodes.getList("node").indexOf(node);
        assertEquals(64 * Inventory.MAX_MIG_PER_GPU, nodes.getList("[" + i + "].inventory.mig").size(),
                "the whole worst case (" + body.length() + " bytes) was taken");

        String eight = FakeAgent.JSON.writeValueAsString(worstCase(node, Inventory.MAX_MIG_PER_GPU + 1));
        given().header("Authorization", "Bearer " + TestToken.get()).contentType("application/json").body(eight)
                .post("/v1/nodes/" + node + "/heartbeat").then().statusCode(400)
                .body("detail", containsString("at most " + 64 * Inventory.MAX_MIG_PER_GPU + " MIG devices"));
        given().header("Authorization", "Bearer " + TestToken.get()).contentType("application/json")
                .body(body.replace("\"gpu\":0,", "\"gpu\":64,")).post("/v1/nodes/" + node + "/heartbeat").then()
                .statusCode(400).body("detail", containsString("which is not in \"gpus\""));
        given().header("Authorization", "Bearer " + TestToken.get()).post("/v1/nodes/" + node + "/forget").then()
                .statusCode(204);
    }

    @Test
    void anAgentOlderThanMigLeasesStillRegisters() throws Exception {
        FakeAgent old = new FakeAgent("mig-old-" + System.nanoTime() % 100_000, 2, heartbeat, TestToken::get);
        agents.add(old);
        ObjectNode body = (ObjectNode) FakeAgent.JSON.valueToTree(old.inventory());
        body.remove("mig");
        body.get("gpus").forEach(g -> ((ObjectNode) g).remove("migMode"));
        given().header("Authorization", "Bearer " + TestToken.get()).contentType("application/json")
                .body(body.toString()).post("/v1/nodes/" + old.node() + "/heartbeat").then().statusCode(200);
        JsonPath nodes = given().get("/v1/nodes").then().statusCode(200).extract().jsonPath();
        int i = nodes.getList("node").indexOf(old.node());
        assertEquals(List.of(), nodes.getList("[" + i + "].inventory.mig"));
        assertEquals(List.of(false, false), nodes.getList("[" + i + "].inventory.gpus.migMode"));
    }

    private static Inventory worstCase(String node, int perGpu) {
        Instant t = Instant.parse("2026-11-23T10:00:00.123456789Z");
        List<Inventory.Gpu> gpus = new ArrayList<>();
        List<Inventory.Mig> mig = new ArrayList<>();
        List<Inventory.Link> links = new ArrayList<>();
        for (int g = 0; g < 64; g++) {
            gpus.add(new Inventory.Gpu(g, gpuUuid(g), "NVIDIA H100 80GB HBM3", String.format("00000000:%02X:00.0", g),
                    "HEALTHY", List.of(), false, 81559L, 1024L, null, false, true));
            for (int gi = 1; gi <= perGpu; gi++) {
                mig.add(new Inventory.Mig(String.format("MIG-%08d-0000-4000-8000-%012d", g, gi), g, g + "/" + (gi + 6),
                        "1g.10gb+me", 9856, 9843L, "HEALTHY", false,
                        java.util.UUID.randomUUID().toString(), false));
            }
            for (int h = g + 1; h < 64; h++) {
                links.add(new Inventory.Link(gpuUuid(g), gpuUuid(h), true, 18, "HOSTBRIDGE"));
            }
        }
        return new Inventory(node, "http://127.0.0.1:9", t, true, gpus, links, mig);
    }

    private static String gpuUuid(int g) {
        return String.format("GPU-%08d-0000-4000-8000-000000000000", g);
    }

    private static List<String> toStrings(com.fasterxml.jackson.databind.JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }
}
