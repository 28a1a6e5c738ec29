package io.gpuagent.agent.usage;

import static io.gpuagent.agent.lease.LeaseTestSupport.authed;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.agent.lease.Cordons;
import io.gpuagent.agent.lease.LeaseTestSupport;
import io.gpuagent.agent.sampler.SamplerService;
import io.gpuagent.nvml.fake.FakeNvml;
import io.gpuagent.nvml.fake.Machines;
import io.gpuagent.nvml.fake.Scenario;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.math.BigDecimal;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Usage end to end on the fake driver with scripted energy counters (power 0, so the counter moves only when the
 * scenario sets it): exact to the millijoule across a counter reset, live and in the release answer, in
 * {@code /v1/usage}, and the per-job metrics only while the lease is live.
 */
@QuarkusTest
class UsageApiTest {

    @Inject
    Cordons cordons;

    @Inject
    SamplerService sampler;

    @BeforeEach
    void fresh() {
        LeaseTestSupport.freshNode(cordons);
    }

    @AfterEach
    void cleanUp() {
        LeaseTestSupport.releaseAll();
        FakeNvml.write(Machines.dgxH100());
    }

    private void counter(long mj) {
        Scenario s = Machines.dgxH100().line("gpu.*.power_mw = 0").line("gpu.*.energy_mj = " + mj);
        FakeNvml.apply(s);
        sampler.sweepNow();
    }

    @Test
    void usageIsExactAcrossACounterResetLiveAndInTheReleaseAnswer() {
        counter(1_000);
        String job = "usage-" + UUID.randomUUID();   // the state directory outlives a run: a job of its own
        JsonPath lease = authed().contentType("application/json").body("{\"jobId\":\"" + job + "\",\"gpus\":1,\"ttlSeconds\":600}")
                .post("/v1/leases").then().statusCode(201).extract().jsonPath();
        String id = lease.getString("leaseId");
        int gpu = lease.getInt("indices[0]");
        counter(5_000);
        counter(200);   // the driver reloaded: the counter restarts
        counter(700);
        JsonPath live = given().get("/v1/leases/" + id + "/usage").then().statusCode(200)
                .body("live", equalTo(true)).body("gpus[0].counterResets", equalTo(1)).extract().jsonPath();
        assertEquals(0, new BigDecimal("4.700").compareTo(new BigDecimal(live.getString("energyJoules"))));   // 4000 + 200 + 500 mJ
        assertEquals("EUR", live.getString("cost.currency"));
        assertFalse(live.getBoolean("estimated"));

        String metrics = given().get("/metrics").then().statusCode(200).extract().asString();
        assertTrue(metrics.matches("(?s).*gpu_agent_lease_energy_joules_total\\{job=\"" + job + "\",?\\} 4\\.7\\b.*"), metrics);
        assertTrue(metrics.contains("gpu_agent_lease_gpu_seconds_total{job=\"" + job + "\""));
        assertTrue(metrics.contains("gpu_agent_lease_cost{currency=\"EUR\",job=\"" + job + "\""), "the cost so far, in its currency");

        // An XID on the leased GPU during the lease is counted in its usage.
        FakeNvml.apply(Machines.dgxH100().line("gpu.*.power_mw = 0").line("gpu.*.energy_mj = 700").xid(gpu, 13));
        FakeNvml.eventually(java.time.Duration.ofSeconds(10), () -> given().get("/v1/leases/" + id + "/usage").then()
                .statusCode(200).body("gpus[0].xids", equalTo(1)).body("gpus[0].xidCodes", equalTo(java.util.List.of(13))));

        JsonPath released = authed().delete("/v1/leases/" + id).then().statusCode(200)
                .body("leaseId", equalTo(id)).body("live", equalTo(false)).extract().jsonPath();
        assertEquals(0, new BigDecimal("4.700").compareTo(new BigDecimal(released.getString("energyJoules"))));
        assertTrue(new BigDecimal(released.getString("gpuSeconds")).signum() > 0);
        assertEquals(released.getString("cost.total"), given().get("/v1/leases/" + id + "/usage").then()
                .statusCode(200).extract().jsonPath().getString("cost.total"));

        metrics = given().get("/metrics").then().statusCode(200).extract().asString();
        assertFalse(metrics.contains("job=\"" + job + "\""), "ended leases leave Prometheus");

        given().get("/v1/usage?job=" + job).then().statusCode(200).body("leases[0].leaseId", equalTo(id))
                .body("totals.leases", equalTo(1)).body("totals.energyJoules", equalTo(4.7f))
                .body("truncated", equalTo(false));
    }

    @Test
    void usageQueriesAreCheckedStrictly() {
        given().get("/v1/usage?since=yesterday").then().statusCode(400).body("detail", containsString("since"));
        given().get("/v1/usage?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z").then().statusCode(400)
                .body("detail", containsString("before until"));
        given().get("/v1/usage?job=a%20b").then().statusCode(400).body("detail", containsString("job"));
        given().get("/v1/usage?limit=0").then().statusCode(400).body("detail", containsString("limit"));
        given().get("/v1/usage?jobs=a").then().statusCode(400);
        given().get("/v1/usage?job=a&job=b").then().statusCode(400).body("detail", containsString("once"));
        given().get("/v1/leases/00000000-0000-0000-0000-000000000000/usage").then().statusCode(404);
        given().get("/v1/usage?since=2020-01-01T00:00:00Z&until=2020-01-02T00:00:00Z").then().statusCode(200)
                .body("totals.leases", equalTo(0));
    }
}
