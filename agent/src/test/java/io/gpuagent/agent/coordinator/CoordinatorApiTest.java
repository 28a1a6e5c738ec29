package io.gpuagent.agent.coordinator;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.agent.TestToken;
import io.gpuagent.nvml.fake.FakeNvml;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The coordinator's endpoints in the coordinator role, with agents simulated by {@link FakeAgent} (JDK HTTP
 * servers that speak the lease protocol and heartbeat their inventory). The real agents are in
 * {@code MultiNodeIT}.
 */
@QuarkusTest
@TestProfile(CoordinatorApiTest.CoordinatorRole.class)
class CoordinatorApiTest {

    public static class CoordinatorRole implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("gpu-agent.role", "coordinator",
                    "gpu-agent.coordinator.node-timeout", "3s",
                    "gpu-agent.coordinator.heartbeat-interval", "300ms",
                    "gpu-agent.coordinator.request-timeout", "2s",
                    // A fresh directory: placements.jsonl of an earlier run must not be restored here.
                    "gpu-agent.state-dir", "target/test-state-coordinator-" + System.nanoTime());
        }
    }

    static final Duration BEAT = Duration.ofMillis(300);

    @TestHTTPResource("/v1/nodes/heartbeat")
    URI heartbeat;

    private final List<FakeAgent> agents = new ArrayList<>();

    @AfterEach
    void retireAgents() {
        agents.forEach(FakeAgent::close);   // the last heartbeat makes their GPUs unplaceable for the next test
        agents.clear();
    }

    FakeAgent agent(String node, int gpus) throws Exception {
        FakeAgent a = new FakeAgent(node + "-" + System.nanoTime() % 100_000, gpus, heartbeat, TestToken::get);
        agents.add(a);
        return a.heartbeatEvery(BEAT);
    }

    @Test
    void heartbeatsRegisterNodesWithTheTokenAndAGoodBody() throws Exception {
        FakeAgent a = new FakeAgent("hb-" + System.nanoTime() % 100_000, 2, heartbeat, TestToken::get);
        agents.add(a);
        String body = FakeAgent.JSON.writeValueAsString(a.inventory());
        String path = "/v1/nodes/" + a.node() + "/heartbeat";
        given().contentType("application/json").body(body).post(path).then().statusCode(401);
        given().header("Authorization", "Bearer wrong").contentType("application/json").body(body)
                .post(path).then().statusCode(403);
        for (String bad : List.of("", "[]", "{\"node\":\"x\"}", "{\"node\":\"" + a.node() + "\",\"agentUrl\":\"ftp://x\",\"gpus\":[],\"links\":[]}",
                "{\"node\":\"\",\"agentUrl\":\"http://x:1\",\"gpus\":[],\"links\":[]}", "not json",
                body.replace("\"" + a.node() + "\"", "\"someone-else\""))) {
            given().header("Authorization", "Bearer " + TestToken.get()).contentType("application/json").body(bad)
                    .post(path).then().statusCode(400)
                    .contentType("application/problem+json");
        }
        for (String nowhere : List.of("http://224.0.0.1:9400", "http://0.0.0.0:9400", "http://[ff02::1]:9400")) {
            given().header("Authorization", "Bearer " + TestToken.get()).contentType("application/json")
                    .body(body.replace(a.url(), nowhere)).post(path).then().statusCode(403)
                    .contentType("application/problem+json").body("detail", containsString("leads to"));
        }
        given().header("Authorization", "Bearer " + TestToken.get()).contentType("application/json").body(body)
                .post("/v1/nodes/heartbeat").then().statusCode(410).contentType("application/problem+json")
                .body("detail", containsString("/v1/nodes/{name}/heartbeat"));

        given().header("Authorization", "Bearer " + TestToken.get()).contentType("application/json").body(body)
                .post(path).then().statusCode(200)
                .body("node", equalTo(a.node())).body("heartbeatSeconds", equalTo(0.3f));
        JsonPath nodes = given().get("/v1/nodes").then().statusCode(200).extract().jsonPath();
        int i = nodes.getList("node").indexOf(a.node());
        assertTrue(i >= 0, nodes.prettify());
        assertEquals(a.url(), nodes.getString("[" + i + "].agentUrl"));
        assertTrue(nodes.getString("[" + i + "].lastHeartbeat").endsWith("Z"));
        assertEquals(2, nodes.getList("[" + i + "].inventory.gpus").size());
    }

    @Test
    void aPlacementsUsageIsSummedAcrossItsNodesLiveAndAfterRelease() throws Exception {
        FakeAgent a = agent("use-a", 2);
        FakeAgent b = agent("use-b", 2);
        b.usageJoules = "250.250";
        b.usageSeconds = "3600.000";
        b.usageEnergyCost = "0.05";
        b.usageTimeCost = "2.10";
        Response r = place("job-usage", 4, "{\"ttlSeconds\":600}");
        assertEquals(201, r.statusCode(), r.asString());
        String id = r.jsonPath().getString("placementId");
        assertEquals(2, r.jsonPath().getList("allocations").size(), "a placement across both nodes");

        JsonPath u = given().get("/v1/placements/" + id + "/usage").then().statusCode(200).extract().jsonPath();
        assertEquals("job-usage", u.getString("jobId"));
        assertEquals(2, u.getInt("totals.leases"));
        assertEquals(0, new java.math.BigDecimal("1250.750").compareTo(new java.math.BigDecimal(u.getString("totals.energyJoules"))));
        assertEquals(0, new java.math.BigDecimal("10800").compareTo(new java.math.BigDecimal(u.getString("totals.gpuSeconds"))));
        assertEquals(0, new java.math.BigDecimal("6.45").compareTo(new java.math.BigDecimal(u.getString("totals.cost.total"))));
        assertEquals("EUR", u.getString("totals.cost.currency"));
        assertEquals(2, u.getList("nodes").size());

        a.silence();
        b.silence();
        given().header("Authorization", "Bearer " + TestToken.get()).delete("/v1/placements/" + id).then().statusCode(204);
        b.close();   // one node gone: its part is missing, and the sum says it is not the whole
        JsonPath after = given().get("/v1/placements/" + id + "/usage").then().statusCode(200).extract().jsonPath();
        assertEquals(1, after.getInt("totals.leases"));
        assertTrue(after.getBoolean("totals.estimated"));
        assertTrue(after.getString("nodes.find { it.node == '" + b.node() + "' }.missing").contains("cannot reach"), after.prettify());
        given().get("/v1/placements/" + java.util.UUID.randomUUID() + "/usage").then().statusCode(404);
    }

    @Test
    void placesOnTheBestFitNodeTakesTheLeaseThereAndReleasesIt() throws Exception {
        FakeAgent big = agent("big", 4);
        FakeAgent small = agent("small", 2);

        Response r = place("job-a", 2, "{\"ttlSeconds\":600}");
        assertEquals(201, r.statusCode(), r.asString());
        JsonPath p = r.jsonPath();
        String id = p.getString("placementId");
        assertEquals("/v1/placements/" + id, URI.create(r.header("Location")).getPath());
        assertEquals("job-a", p.getString("jobId"));
        assertEquals(1, p.getList("allocations").size());
        assertEquals(small.node(), p.getString("allocations[0].node"), "best fit: the node left with no free GPU");
        assertEquals(small.url(), p.getString("allocations[0].agentUrl"));
        assertEquals(List.of(small.uuid(0), small.uuid(1)), p.getList("allocations[0].gpus"));
        assertEquals("0,1", p.getString("allocations[0].env.CUDA_VISIBLE_DEVICES"));
        assertEquals(1, p.getLong("allocations[0].fencingToken"));
        assertTrue(p.getString("expiresAt").endsWith("Z"));
        assertEquals(Set.of(small.uuid(0), small.uuid(1)), small.leasedUuids());
        assertEquals(0, big.leaseRequests.size());
        assertEquals("job-a", small.leaseRequests.getFirst().get("jobId").asText());
        assertEquals(600, small.leaseRequests.getFirst().get("ttlSeconds").asInt());
        assertFalse(small.leaseRequests.getFirst().has("gpus"), "exactly one of gpus/uuids");

        given().get("/v1/placements").then().statusCode(200).body("placementId", org.hamcrest.Matchers.hasItem(id));
        given().get("/v1/placements/" + id).then().statusCode(200).body("jobId", equalTo("job-a"));
        assertEquals(409, place("job-a", 1, null).statusCode(), "one live placement per job");

        given().delete("/v1/placements/" + id).then().statusCode(401);
        small.silence();   // no heartbeat from before the release may arrive after it
        given().header("Authorization", "Bearer " + TestToken.get()).delete("/v1/placements/" + id).then().statusCode(204);
        assertEquals(List.of(p.getString("allocations[0].leaseId")), small.deletes);
        assertTrue(small.leasedUuids().isEmpty());
        given().header("Authorization", "Bearer " + TestToken.get()).delete("/v1/placements/" + id).then().statusCode(404)
                .contentType("application/problem+json");
        given().get("/v1/placements/" + id).then().statusCode(404);

        // Released GPUs are placeable again at once, without waiting for the next heartbeat.
        Response again = place("job-a", 2, null);
        assertEquals(201, again.statusCode(), again.asString());
        assertEquals(small.node(), again.jsonPath().getString("allocations[0].node"));
    }

    @Test
    void placementsInQuickSuccessionNeverShareAGpuAndNothingLeftIs409() throws Exception {
        FakeAgent a = agent("quick", 4);
        a.silence();   // no heartbeat between the placements: only the coordinator's own bookkeeping can keep them apart
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 4; i++) {
            Response r = place("quick-" + i, 1, null);
            assertEquals(201, r.statusCode(), r.asString());
            String uuid = r.jsonPath().getString("allocations[0].gpus[0]");
            assertTrue(seen.add(uuid), uuid + " placed twice");
        }
        assertEquals(4, a.leaseRequests.size(), "no request was refused by the agent");
        Response full = place("quick-4", 1, null);
        assertEquals(409, full.statusCode());
        assertEquals("application/problem+json", full.contentType());
        assertTrue(full.jsonPath().getString("detail").contains(a.node() + ": 0 of 4 leasable"), full.asString());
    }

    @Test
    void aLeaseTheAgentRefusesMakesTheCoordinatorTryTheNextCandidate() throws Exception {
        FakeAgent first = agent("refuses", 2);
        FakeAgent second = agent("grants", 3);
        first.scripted.add(409);   // its inventory said free, but the GPUs went meanwhile
        Response r = place("job-retry", 2, null);
        assertEquals(201, r.statusCode(), r.asString());
        assertEquals(second.node(), r.jsonPath().getString("allocations[0].node"));
        assertEquals(1, first.leaseRequests.size());

        second.scripted.add(500);   // an agent failing outright is skipped too (its last GPU is the best fit)
        first.scripted.addAll(List.of(409, 409));   // a refusal excludes only the GPUs asked for: both are tried
        Response none = place("job-none", 1, null);
        assertEquals(409, none.statusCode(), none.asString());
        assertTrue(none.jsonPath().getString("detail").contains("agents refused"), none.asString());
        assertEquals(2, second.leaseRequests.size());
        assertEquals(3, first.leaseRequests.size());
    }

    @Test
    void aJobTooBigForOneNodeSpansTheFewestAndAFailedPartIsReleased() throws Exception {
        FakeAgent two = agent("two", 2);
        FakeAgent twoMore = agent("twomore", 2);
        FakeAgent one = agent("one", 1);
        one.scripted.add(500);   // the best fit for the last GPU fails after "two" granted its part
        Response r = place("job-wide", 3, null);
        assertEquals(201, r.statusCode(), r.asString());
        JsonPath p = r.jsonPath();
        assertEquals(2, p.getList("allocations").size(), r.asString());
        List<String> nodes = p.getList("allocations.node");
        assertEquals(3, p.getList("allocations.gpus.flatten()").size());
        assertTrue(nodes.contains(two.node()) && nodes.contains(twoMore.node()), nodes.toString());
        assertEquals(1, one.leaseRequests.size());
        // "two" granted its part in the first attempt and had it released when "one" failed, then granted again.
        assertEquals(2, two.leaseRequests.size());
        assertEquals(1, two.deletes.size());
        assertEquals(2, two.leasedUuids().size());
    }

    @Test
    void anUnhealthyGpuIsNotPlacedAfterTheHeartbeatSaysSo() throws Exception {
        FakeAgent a = agent("sick", 2);
        a.breakGpu(0);
        a.sendHeartbeat();
        Response r = place("job-sick", 1, null);
        assertEquals(201, r.statusCode(), r.asString());
        assertEquals(List.of(a.uuid(1)), r.jsonPath().getList("allocations[0].gpus"));
        Response none = place("job-sick-2", 1, null);
        assertEquals(409, none.statusCode());
        assertTrue(none.jsonPath().getString("detail").contains("1 UNHEALTHY"), none.asString());
    }

    @Test
    void aNodeThatStopsHeartbeatingIsDroppedAndRecordedAsAnEvent() throws Exception {
        FakeAgent a = agent("quiet", 2);
        given().get("/v1/nodes").then().body("node", org.hamcrest.Matchers.hasItem(a.node()));
        a.silence();
        FakeNvml.eventually(Duration.ofSeconds(10), () -> given().get("/v1/nodes").then()
                .body("node", org.hamcrest.Matchers.not(org.hamcrest.Matchers.hasItem(a.node()))));
        FakeNvml.eventually(Duration.ofSeconds(5), () -> {
            String events = given().get("/v1/events?limit=1000").then().statusCode(200).extract().asString();
            assertTrue(events.contains("node " + a.node() + " dropped"), events);
        });
        Response r = place("job-quiet", 1, null);
        assertEquals(409, r.statusCode(), "a dropped node is never chosen: " + r.asString());
        assertEquals(0, a.leaseRequests.size());
    }

    @Test
    void aPlacementWhoseLeasesEndedOnTheAgentsIsForgottenAfterItExpires() throws Exception {
        FakeAgent a = agent("ends", 1);
        Response r = place("job-short", 1, "{\"ttlSeconds\":1}");
        assertEquals(201, r.statusCode(), r.asString());
        String id = r.jsonPath().getString("placementId");
        a.endLease(r.jsonPath().getString("allocations[0].leaseId"));   // e.g. the job's epilog released it there
        FakeNvml.eventually(Duration.ofSeconds(10), () -> given().get("/v1/placements/" + id).then().statusCode(404));
        String events = given().get("/v1/events?limit=1000").then().extract().asString();
        assertTrue(events.contains("placement " + id + " of job job-short ended"), events);
        assertEquals(List.of(), a.deletes, "nothing to release: the coordinator only forgets it");
    }

    @Test
    void badPlacementRequestsAre400WithTheReason() {
        String token = "Bearer " + TestToken.get();
        Map<String, String> cases = Map.of(
                "{\"gpus\":1}", "jobId",
                "{\"jobId\":\"has space\",\"gpus\":1}", "jobId",
                "{\"jobId\":\"j\",\"gpus\":0}", "gpus",
                "{\"jobId\":\"j\",\"gpus\":1.5}", "gpus",
                "{\"jobId\":\"j\",\"gpus\":1,\"queue\":true}", "unknown field \"queue\"",
                "{\"jobId\":\"j\",\"gpus\":1,\"constraints\":{\"ttlSeconds\":0}}", "ttlSeconds",
                "{\"jobId\":\"j\",\"gpus\":1,\"constraints\":{\"sameNvlinkDomain\":\"yes\"}}", "sameNvlinkDomain",
                "{\"jobId\":\"j\",\"gpus\":1,\"constraints\":{\"minMemoryMiB\":-1}}", "minMemoryMiB",
                "{\"jobId\":\"j\",\"gpus\":1,\"constraints\":{\"nvlink\":true}}", "constraints.nvlink",
                "[1]", "object");
        cases.forEach((body, why) -> given().header("Authorization", token).contentType("application/json").body(body)
                .post("/v1/placements").then().statusCode(400).contentType("application/problem+json")
                .body("detail", containsString(why)));
        given().contentType("application/json").body("{\"jobId\":\"j\",\"gpus\":1}").post("/v1/placements").then()
                .statusCode(401);
    }

    static Response place(String jobId, int gpus, String constraints) {
        String body = "{\"jobId\":\"" + jobId + "\",\"gpus\":" + gpus
                + (constraints == null ? "" : ",\"constraints\":" + constraints) + "}";
        return given().header("Authorization", "Bearer " + TestToken.get()).contentType("application/json").body(body)
                .post("/v1/placements");
    }
}
