package io.gpuagent.agent.events;

import static io.restassured.RestAssured.given;

import io.gpuagent.agent.TestToken;
import io.gpuagent.nvml.fake.FakeNvml;
import io.gpuagent.nvml.fake.Machines;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** What the event tests share: the bearer token, fresh fake-driver event numbers, and cleaning up GPUs. */
final class EventTestSupport {

    private EventTestSupport() {
    }

    /** The test JVM's bearer token ({@link TestToken}). */
    static String token() {
        return TestToken.get();
    }

    /** Injects XID {@code xid} on {@code gpu} through the fake driver; returns the event number used. */
    static long injectXid(int gpu, int xid) {
        long n = FakeNvml.nextEventNumber();
        FakeNvml.write("gpus = 8\nevent." + n + " = " + gpu + " xid " + xid + "\n");
        return n;
    }

    /** Clears every GPU through the API and waits until /health is 200 again. */
    static void clearAllAndWaitHealthy() {
        FakeNvml.write(Machines.dgxH100());
        String t = token();
        List<Map<String, Object>> gpus = given().get("/health").then().extract().jsonPath().getList("gpus");
        for (Map<String, Object> gpu : gpus) {
            if (!"HEALTHY".equals(gpu.get("state"))) {
                given().header("Authorization", "Bearer " + t).post("/v1/gpus/" + gpu.get("index") + "/health/clear");
            }
        }
        FakeNvml.eventually(Duration.ofSeconds(10), () -> given().get("/health").then().statusCode(200));
    }
}
