package io.gpuagent.agent.events;

import static io.restassured.RestAssured.given;

import io.gpuagent.agent.Scenario;
import io.gpuagent.agent.TestToken;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/** What the event tests share: the bearer token, fresh fake-driver event numbers, and cleaning up GPUs. */
final class EventTestSupport {

    /**
     * The fake fires each {@code event.<n>} once per process: start at a random large number so that no
     * other test class (in this JVM) uses the same ones.
     */
    private static final AtomicLong NEXT_EVENT = new AtomicLong(ThreadLocalRandom.current().nextLong(1L << 40, 1L << 50));

    private EventTestSupport() {
    }

    static long nextEventNumber() {
        return NEXT_EVENT.getAndIncrement();
    }

    /** The test JVM's bearer token ({@link TestToken}). */
    static String token() {
        return TestToken.get();
    }

    /** Injects XID {@code xid} on {@code gpu} through the fake driver; returns the event number used. */
    static long injectXid(int gpu, int xid) {
        long n = nextEventNumber();
        Scenario.write("gpus = 8\nevent." + n + " = " + gpu + " xid " + xid + "\n");
        return n;
    }

    /** Clears every GPU through the API and waits until /health is 200 again. */
    static void clearAllAndWaitHealthy() {
        Scenario.write("gpus = 8\n");
        String t = token();
        List<Map<String, Object>> gpus = given().get("/health").then().extract().jsonPath().getList("gpus");
        for (Map<String, Object> gpu : gpus) {
            if (!"HEALTHY".equals(gpu.get("state"))) {
                given().header("Authorization", "Bearer " + t).post("/v1/gpus/" + gpu.get("index") + "/health/clear");
            }
        }
        Scenario.eventually(Duration.ofSeconds(10), () -> given().get("/health").then().statusCode(200));
    }
}
