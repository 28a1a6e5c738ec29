package io.gpuagent.agent.lease;

import static io.gpuagent.agent.lease.LeaseTestSupport.authed;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.agent.journal.AgentEvent;
import io.gpuagent.agent.journal.EventLog;
import io.gpuagent.nvml.fake.FakeNvml;
import io.gpuagent.nvml.fake.Machines;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The lease API end to end on the fake driver: grant, refuse, heartbeat, release, expiry, inventory, auth. */
@QuarkusTest
class LeaseApiTest {

    static final Duration FAST = Duration.ofSeconds(5);

    @Inject
    Cordons cordons;

    @Inject
    GpuLeases leases;

    @Inject
    EventLog events;

    @BeforeEach
    void fresh() {
        LeaseTestSupport.freshNode(cordons);
    }

    @AfterEach
    void cleanUp() {
        LeaseTestSupport.releaseAll();
        cordons.all().forEach(c -> cordons.uncordon(c.uuid()));
        FakeNvml.write(Machines.dgxH100());
    }

    @Test
    void grantAnswers201WithGpusEnvAndToken() {
        JsonPath granted = grant("{\"jobId\":\"job-a\",\"gpus\":2,\"ttlSeconds\":600}", 201)
                .header("Location", startsWith("/v1/leases/"))
                .body("jobId", equalTo("job-a")).body("gpus", hasSize(2)).body("indices", hasSize(2))
                .extract().jsonPath();
        List<String> uuids = granted.getList("gpus");
        List<Integer> indices = granted.getList("indices");
        String id = granted.getString("leaseId");
        assertEquals(indices.get(0) + "," + indices.get(1), granted.getString("env.CUDA_VISIBLE_DEVICES"));
        assertEquals(String.join(",", uuids), granted.getString("env.NVIDIA_VISIBLE_DEVICES"));
        Instant expires = Instant.parse(granted.getString("expiresAt"));
        assertTrue(Duration.between(Instant.now(), expires).toSeconds() > 590, "expires " + expires);

        // Listed, looked up, and held for the recovery engine; the inventory shows it and the GPU is not leasable.
        given().get("/v1/leases").then().statusCode(200).body("leaseId", equalTo(List.of(id)))
                .body("[0].ttlSeconds", equalTo(600)).body("[0].fencingToken", equalTo(granted.getInt("fencingToken")));
        given().get("/v1/leases/" + id).then().statusCode(200).body("jobId", equalTo("job-a"));
        assertEquals("job-a", leases.leaseOn(uuids.get(0)).orElseThrow().jobId());
        Map<String, Object> gpu = inventoryGpu(uuids.get(0));
        assertEquals(false, gpu.get("leasable"));
        assertEquals(id, ((Map<?, ?>) gpu.get("lease")).get("leaseId"));

        // The next grant gets a higher fencing token and other GPUs.
        JsonPath second = grant("{\"jobId\":\"job-b\",\"uuids\":[\"" + freeUuid() + "\"]}", 201).extract().jsonPath();
        assertTrue(second.getLong("fencingToken") > granted.getLong("fencingToken"));
        assertFalse(uuids.contains(second.getString("gpus[0]")));
        assertEquals(3600, second.getInt("ttlSeconds"), "default ttl");
    }

    @Test
    void refusalsAre409ProblemsSayingWhy() {
        String cordoned = uuidOf(5);
        cordons.cordon(cordoned, "test", "bad fan", Instant.now());
        grant("{\"jobId\":\"big\",\"gpus\":8}", 409).contentType("application/problem+json")
                .body("status", equalTo(409)).body("detail", containsString("8 GPU(s) asked, 7 leasable"))
                .body("detail", containsString("GPU 5 is cordoned (bad fan)"));
        grant("{\"jobId\":\"named\",\"uuids\":[\"" + cordoned + "\"]}", 409).body("detail", containsString("GPU 5 is cordoned"));

        String taken = grant("{\"jobId\":\"first\",\"gpus\":1}", 201).extract().path("gpus[0]");
        grant("{\"jobId\":\"second\",\"uuids\":[\"" + taken + "\"]}", 409).body("detail", containsString("leased to job first"));
        // The same job asking again is told about the lease it holds.
        grant("{\"jobId\":\"first\",\"gpus\":1}", 409).body("detail", containsString("already holds lease"));
        // Memory: the fake's GPUs have 80 GiB; nobody has 10 TiB free.
        grant("{\"jobId\":\"mem\",\"gpus\":1,\"minMemoryMiB\":10000000}", 409).body("detail", containsString("MiB free"));
    }

    @Test
    void unhealthyAndLostGpusAreNeverLeased() {
        FakeNvml.write(Machines.dgxH100().lost(2));
        FakeNvml.eventually(FAST, () -> assertEquals(false, inventoryGpu(uuidOf(2)).get("leasable")));
        grant("{\"jobId\":\"lost\",\"uuids\":[\"" + uuidOf(2) + "\"]}", 409).body("detail", containsString("GPU 2 is"));
        grant("{\"jobId\":\"all\",\"gpus\":8}", 409).body("detail", containsString("GPU 2 is"));
    }

    /** The fake driver has no GPU in MIG mode: a MIG lease is checked like any other, then refused for want of one. */
    @Test
    void migRequestsAreCheckedAndANodeWithoutMigDevicesSaysSo() {
        grant("{\"jobId\":\"m\",\"mig\":{\"profile\":\"1g.10gb\",\"count\":2}}", 409)
                .body("detail", equalTo("2 MIG device(s) of profile 1g.10gb asked, this node has none: no MIG devices "
                        + "(no GPU in MIG mode, or no instances created); the MIG layout is the operator's (nvidia-mig-parted)"));
        grant("{\"jobId\":\"m\",\"uuids\":[\"MIG-4b5f3b1c-0000-4000-8000-000000000001\"]}", 400)
                .body("detail", containsString("not a MIG device of this node"));
        grant("{\"jobId\":\"m\",\"gpus\":1,\"mig\":{\"profile\":\"1g.10gb\",\"count\":1}}", 400)
                .body("detail", containsString("exactly one of"));
        grant("{\"jobId\":\"m\",\"mig\":{\"profile\":\"1g.10gb\",\"count\":1,\"gi\":1}}", 400)
                .body("detail", equalTo("unknown field \"mig.gi\"; the fields are mig.profile, mig.count"));
        grant("{\"jobId\":\"m\",\"mig\":{\"profile\":\"MIG 1g.10gb\",\"count\":1}}", 400)
                .body("detail", containsString("without NVML's \"MIG \" prefix"));
        grant("{\"jobId\":\"m\",\"mig\":{\"profile\":\"1g.10gb\",\"count\":\"1\"}}", 400)
                .body("detail", containsString("\"mig.count\""));
        grant("{\"jobId\":\"m\",\"mig\":{\"profile\":\"1g.10gb\"}}", 400)
                .body("detail", containsString("\"mig.count\" is required"));
        grant("{\"jobId\":\"m\",\"mig\":{\"profile\":\"1g.10gb\",\"count\":1},\"sameNvlinkDomain\":true}", 400)
                .body("detail", containsString("cannot be asked for MIG devices"));
        grant("{\"jobId\":\"m\",\"uuids\":[\"MIG-a\",\"" + uuidOf(0) + "\"]}", 400)
                .body("detail", containsString("both MIG devices"));
        JsonPath inv = given().get("/v1/inventory").then().statusCode(200).extract().jsonPath();
        assertEquals(List.of(), inv.getList("mig"));
        assertTrue(inv.getList("gpus.migMode").stream().allMatch(Boolean.FALSE::equals), inv.prettify());
        given().get("/v1/leases").then().body("", hasSize(0));
    }

    @Test
    void badInputIs400NamingTheField() {
        grant("{\"jobId\":\"x\",\"gpus\":1,\"color\":\"red\"}", 400).contentType("application/problem+json")
                .body("detail", containsString("unknown field \"color\""));
        grant("{\"jobId\":\"x\"}", 400).body("detail", containsString("exactly one of"));
        grant("{\"jobId\":\"x\",\"gpus\":1,\"uuids\":[\"" + uuidOf(0) + "\"]}", 400).body("detail", containsString("exactly one of"));
        grant("{\"jobId\":\"x\",\"gpus\":9}", 400).body("detail", containsString("this node has 8"));
        grant("{\"jobId\":\"x\",\"gpus\":0}", 400).body("detail", containsString("\"gpus\""));
        grant("{\"jobId\":\"x\",\"gpus\":1.5}", 400).body("detail", containsString("\"gpus\""));
        grant("{\"jobId\":\"x\",\"gpus\":\"2\"}", 400).body("detail", containsString("\"gpus\""));
        grant("{\"jobId\":\"x\",\"gpus\":1,\"ttlSeconds\":0}", 400).body("detail", containsString("\"ttlSeconds\""));
        grant("{\"jobId\":\"x\",\"gpus\":1,\"ttlSeconds\":604801}", 400).body("detail", containsString("\"ttlSeconds\""));
        grant("{\"jobId\":\"a b\",\"gpus\":1}", 400).body("detail", containsString("\"jobId\""));
        grant("{\"gpus\":1}", 400).body("detail", containsString("\"jobId\" is required"));
        grant("{\"jobId\":\"x\",\"uuids\":[\"GPU-nope\"]}", 400).body("detail", containsString("GPU-nope"));
        grant("{\"jobId\":\"x\",\"uuids\":[]}", 400).body("detail", containsString("\"uuids\""));
        grant("{\"jobId\":\"x\",\"gpus\":1,\"minMemoryMiB\":-1}", 400).body("detail", containsString("\"minMemoryMiB\""));
        grant("{\"jobId\":", 400).body("detail", containsString("not valid JSON"));
        grant("[1,2]", 400);
        grant("", 400).body("detail", containsString("JSON body is required"));
        given().get("/v1/leases").then().body("", hasSize(0));
    }

    @Test
    void mutatingCallsNeedTheTokenAndReadsDoNot() {
        given().contentType(ContentType.JSON).body("{\"jobId\":\"x\",\"gpus\":1}").post("/v1/leases").then().statusCode(401);
        given().header("Authorization", "Bearer wrong").contentType(ContentType.JSON).body("{\"jobId\":\"x\",\"gpus\":1}")
                .post("/v1/leases").then().statusCode(403);
        String id = grant("{\"jobId\":\"auth\",\"gpus\":1}", 201).extract().path("leaseId");
        given().post("/v1/leases/" + id + "/heartbeat").then().statusCode(401);
        given().delete("/v1/leases/" + id).then().statusCode(401);
        given().get("/v1/leases").then().statusCode(200).body("", hasSize(1));
        given().get("/v1/leases/" + id).then().statusCode(200);
        given().get("/v1/inventory").then().statusCode(200);
    }

    @Test
    void heartbeatExtendsAndReleaseFrees() throws Exception {
        JsonPath lease = grant("{\"jobId\":\"hb\",\"gpus\":1,\"ttlSeconds\":3}", 201).extract().jsonPath();
        String id = lease.getString("leaseId");
        Instant first = Instant.parse(lease.getString("expiresAt"));
        Thread.sleep(1500);
        JsonPath renewed = authed().post("/v1/leases/" + id + "/heartbeat").then().statusCode(200)
                .body("leaseId", equalTo(id)).extract().jsonPath();
        assertTrue(Instant.parse(renewed.getString("expiresAt")).isAfter(first.plusMillis(1000)), renewed.prettify());
        Thread.sleep(2000);   // past the first expiry, inside the renewed one
        given().get("/v1/leases/" + id).then().statusCode(200);

        authed().delete("/v1/leases/" + id).then().statusCode(200);
        authed().delete("/v1/leases/" + id).then().statusCode(404).contentType("application/problem+json");
        authed().post("/v1/leases/" + id + "/heartbeat").then().statusCode(404);
        given().get("/v1/leases/" + id).then().statusCode(404);
        assertEquals(true, inventoryGpu(lease.getString("gpus[0]")).get("leasable"));
    }

    @Test
    void anExpiredLeaseFreesItsGpusAndIsJournaledAsAnEvent() {
        long before = events.lastId();
        JsonPath lease = grant("{\"jobId\":\"short\",\"gpus\":1,\"ttlSeconds\":1}", 201).extract().jsonPath();
        String id = lease.getString("leaseId");
        String uuid = lease.getString("gpus[0]");
        FakeNvml.eventually(FAST, () -> {
            given().get("/v1/leases/" + id).then().statusCode(404);
            assertEquals(true, inventoryGpu(uuid).get("leasable"));
            assertTrue(leases.leaseOn(uuid).isEmpty());
        });
        authed().post("/v1/leases/" + id + "/heartbeat").then().statusCode(404);
        FakeNvml.eventually(FAST, () -> assertTrue(events.since(before, null, null, 1000).stream()
                .anyMatch(e -> LeaseEvents.EXPIRED.equals(e.code()) && e.message().contains(id)), "expiry event"));
    }

    @Test
    void aLeasedGpuTurningUnhealthyRaisesAnEventAndKeepsItsLease() {
        long before = events.lastId();
        String uuid = uuidOf(6);
        String id = grant("{\"jobId\":\"victim\",\"uuids\":[\"" + uuid + "\"]}", 201).extract().path("leaseId");
        FakeNvml.write(Machines.dgxH100().lost(6));
        FakeNvml.eventually(FAST, () -> {
            AgentEvent e = events.since(before, 6, uuid, 1000).stream()
                    .filter(x -> LeaseEvents.LEASED_GPU_UNHEALTHY.equals(x.code())).findFirst().orElseThrow();
            assertEquals(LeaseEvents.KIND, e.kind());
            assertTrue(e.message().contains(id) && e.message().contains("victim"), e.message());
        });
        given().get("/v1/leases/" + id).then().statusCode(200);

        // Recovery's drain ends it: the whole lease, journaled, GPU free once healthy again.
        assertEquals(1, leases.endLeasesOn(uuid, "drain deadline passed"));
        assertTrue(leases.leaseOn(uuid).isEmpty());
        given().get("/v1/leases/" + id).then().statusCode(404);
        assertEquals(0, leases.endLeasesOn(uuid, "again"));
    }

    @Test
    void inventoryHasEveryGpuAndEveryPair() {
        JsonPath inv = given().get("/v1/inventory").then().statusCode(200).extract().jsonPath();
        assertEquals("test-node", inv.getString("node"));
        assertTrue(inv.getString("agentUrl").startsWith("http://test-node:"), inv.getString("agentUrl"));
        assertEquals(8, inv.getList("gpus").size());
        assertEquals(28, inv.getList("links").size());
        Map<String, Object> g0 = inv.getMap("gpus[0]");
        assertEquals(0, g0.get("index"));
        assertTrue(((Number) g0.get("memoryTotalMiB")).longValue() > 0);
        assertTrue(((Number) g0.get("memoryFreeMiB")).longValue() > 0);
        assertNull(g0.get("lease"));
        assertEquals(false, g0.get("cordoned"));
        assertEquals(true, inv.getBoolean("healthy"));
    }

    @Test
    void inventoryLinksCarryTheDriversTopology() {
        JsonPath inv = given().get("/v1/inventory").then().extract().jsonPath();
        Map<String, Object> l01 = link(inv, uuidOf(0), uuidOf(1));
        assertEquals(true, l01.get("nvlink"));
        assertEquals(18, l01.get("nvlinkCount"), "18 links to the same four NVSwitches");
        assertEquals("MULTIPLE", l01.get("pcieAncestor"), "the fake's GPUs 0-3 share a PCIe switch tree");
        assertEquals("SYSTEM", link(inv, uuidOf(0), uuidOf(4)).get("pcieAncestor"));
    }

    @Test
    void sameNvlinkDomainTakesOnlyPairwiseNvlinkedGpus() {
        // GPU 3's links all end at a switch no other GPU reaches. The agent reads topology once per set of
        // GPUs, as on a real host (where link ends change only with a reset): lose GPU 3 and bring it back.
        StringBuilder apart = new StringBuilder("gpus = 8\n");
        for (int l = 0; l < 18; l++) {
            apart.append("gpu.3.nvlink.").append(l).append(".remote_pci_bus_id = 00000000:0F:00.0\n");
        }
        String gpu3 = uuidOf(3);
        FakeNvml.write(apart + "gpu.3.lost = 1\n");
        FakeNvml.eventually(FAST, () -> assertEquals("LOST", inventoryGpu(gpu3).get("health")));
        FakeNvml.write(apart.toString());
        LeaseTestSupport.eventuallyAllLeasable(Duration.ofSeconds(15));
        assertEquals(false, link(given().get("/v1/inventory").then().extract().jsonPath(), uuidOf(0), gpu3).get("nvlink"));
        grant("{\"jobId\":\"nv-named\",\"uuids\":[\"" + uuidOf(0) + "\",\"" + uuidOf(3) + "\"],\"sameNvlinkDomain\":true}", 409)
                .body("detail", containsString("GPUs 0 and 3 are not NVLink-connected"));
        grant("{\"jobId\":\"nv-all\",\"gpus\":8,\"sameNvlinkDomain\":true}", 409)
                .body("detail", containsString("8 GPU(s) asked, 8 leasable but no 8 of them are pairwise NVLink-connected"));
        // Without the constraint GPU 3 is fine; with it, 7 GPUs leave GPU 3 out.
        List<Integer> seven = grant("{\"jobId\":\"nv-seven\",\"gpus\":7,\"sameNvlinkDomain\":true}", 201)
                .extract().jsonPath().getList("indices");
        assertEquals(List.of(0, 1, 2, 4, 5, 6, 7), seven);
    }

    @Test
    void countedGrantsFillAPartlyUsedPcieGroupFirst() {
        grant("{\"jobId\":\"one\",\"uuids\":[\"" + uuidOf(0) + "\"]}", 201);
        // GPUs 1-3 share GPU 0's PCIe tree, 4-7 another: two GPUs come from 1-3, keeping 4-7 whole.
        assertEquals(List.of(1, 2), grant("{\"jobId\":\"two\",\"gpus\":2}", 201).extract().jsonPath().getList("indices"));
        assertEquals(List.of(4, 5, 6, 7), grant("{\"jobId\":\"four\",\"gpus\":4}", 201).extract().jsonPath().getList("indices"));
        assertEquals(List.of(3), grant("{\"jobId\":\"last\",\"gpus\":1}", 201).extract().jsonPath().getList("indices"));
    }

    @Test
    void leasedGpusCarryHpcJobOnTheirSeriesUntilReleased() {
        JsonPath lease = grant("{\"jobId\":\"slurm:4242\",\"uuids\":[\"" + uuidOf(2) + "\"]}", 201).extract().jsonPath();
        FakeNvml.eventually(FAST, () -> {
            String metrics = given().get("/metrics").then().statusCode(200).extract().asString();
            List<String> gpuTemp = metrics.lines().filter(l -> l.startsWith("DCGM_FI_DEV_GPU_TEMP{")).toList();
            assertEquals(8, gpuTemp.size(), metrics);
            for (String line : gpuTemp) {
                boolean leased = line.contains("gpu=\"2\",");
                assertEquals(leased, line.contains(",hpc_job=\"slurm:4242\"}"), line);
                assertEquals(leased, line.contains("hpc_job"), line);
            }
            assertTrue(metrics.lines().anyMatch(l -> l.startsWith("gpu_agent_gpu_leased{UUID=\"" + uuidOf(2)
                    + "\",gpu=\"2\",job=\"slurm:4242\"") && l.endsWith(" 1.0")), metrics);
            assertTrue(metrics.lines().anyMatch(l -> l.startsWith("gpu_agent_leases{state=\"active\"") && l.endsWith(" 1.0")),
                    metrics);
        });
        authed().delete("/v1/leases/" + lease.getString("leaseId")).then().statusCode(200);
        FakeNvml.eventually(FAST, () -> {
            String metrics = given().get("/metrics").then().extract().asString();
            assertFalse(metrics.contains("hpc_job"), "no job label once released");
            assertFalse(metrics.contains("gpu_agent_gpu_leased{"), metrics);
        });
    }

    @Inject
    LeaseBook book;

    @Test
    void listenersHearOfEveryChange() {
        java.util.concurrent.atomic.AtomicReference<List<Lease>> heard = new java.util.concurrent.atomic.AtomicReference<>();
        book.addListener(heard::set);
        String id = grant("{\"jobId\":\"heard\",\"gpus\":1}", 201).extract().path("leaseId");
        assertEquals(List.of(id), heard.get().stream().map(Lease::leaseId).toList());
        authed().delete("/v1/leases/" + id).then().statusCode(200);
        assertEquals(List.of(), heard.get());
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> link(JsonPath inventory, String a, String b) {
        List<Map<String, Object>> links = inventory.getList("links");
        return links.stream().filter(l -> (a.equals(l.get("a")) && b.equals(l.get("b"))) || (a.equals(l.get("b")) && b.equals(l.get("a"))))
                .findFirst().orElseThrow(() -> new AssertionError("no link " + a + " " + b + " in " + links));
    }

    private static io.restassured.response.ValidatableResponse grant(String body, int status) {
        return authed().contentType(ContentType.JSON).body(body).post("/v1/leases").then().statusCode(status);
    }

    static String uuidOf(int index) {
        return given().get("/v1/inventory").then().extract().path("gpus[" + index + "].uuid");
    }

    private static String freeUuid() {
        List<Map<String, Object>> gpus = given().get("/v1/inventory").then().extract().jsonPath().getList("gpus");
        return (String) gpus.stream().filter(g -> Boolean.TRUE.equals(g.get("leasable"))).findFirst().orElseThrow().get("uuid");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> inventoryGpu(String uuid) {
        List<Map<String, Object>> gpus = given().get("/v1/inventory").then().extract().jsonPath().getList("gpus");
        return gpus.stream().filter(g -> uuid.equals(g.get("uuid"))).findFirst().orElseThrow();
    }
}
