package io.gpuagent.agent.lease;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.gpuagent.agent.TestToken;
import io.gpuagent.nvml.fake.FakeNvml;
import io.gpuagent.nvml.fake.Machines;
import io.restassured.specification.RequestSpecification;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** What the lease tests share: the bearer token and a node with 8 healthy, unleased GPUs. */
public final class LeaseTestSupport {

    private LeaseTestSupport() {
    }

    /** The test JVM's bearer token ({@link TestToken}). */
    static String token() {
        return TestToken.get();
    }

    public static RequestSpecification authed() {
        // JSON, as every body the API takes must say it is (a request without a body may say so too).
        return given().header("Authorization", "Bearer " + token()).contentType("application/json");
    }

    /** Eight GPUs, every one HEALTHY (cleared through the API), uncordoned, not leased, and leasable. */
    public static void freshNode(Cordons cordons) {
        FakeNvml.write(Machines.dgxH100());
        cordons.all().forEach(c -> cordons.uncordon(c.uuid()));
        releaseAll();
        eventuallyAllLeasable(Duration.ofSeconds(15));
    }

    /** Waits until all 8 GPUs are leasable, clearing the health of any that is not HEALTHY meanwhile. */
    static void eventuallyAllLeasable(Duration timeout) {
        FakeNvml.eventually(timeout, () -> {
            List<Map<String, Object>> gpus = given().get("/v1/inventory").then().statusCode(200).extract().jsonPath()
                    .getList("gpus");
            for (Map<String, Object> g : gpus) {
                if (!"HEALTHY".equals(g.get("health")) && !"INITIALIZING".equals(g.get("health"))) {
                    authed().post("/v1/gpus/" + g.get("index") + "/health/clear");
                }
            }
            assertEquals(8, gpus.stream().filter(g -> Boolean.TRUE.equals(g.get("leasable"))).count(),
                    "leasable GPUs: " + gpus);
        });
    }

    public static void releaseAll() {
        List<String> ids = given().get("/v1/leases").then().statusCode(200).extract().jsonPath().getList("leaseId");
        for (String id : ids) {
            authed().delete("/v1/leases/" + id);
        }
    }
}
