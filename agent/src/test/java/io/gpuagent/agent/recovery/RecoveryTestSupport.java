package io.gpuagent.agent.recovery;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.agent.TestToken;
import io.gpuagent.nvml.fake.FakeNvml;
import io.gpuagent.nvml.fake.Machines;
import io.restassured.specification.RequestSpecification;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** What the recovery tests share: the token, fresh fake-driver event numbers, the reset script's log, cleanup. */
final class RecoveryTestSupport {

    /** Written by src/test/resources/recovery/reset-gpu.sh, one line per run: {@code reset <index> <pid>}. */
    static final Path RESETS_LOG = Path.of("target/recovery/resets.log");
    static final Duration SOON = Duration.ofSeconds(20);

    private RecoveryTestSupport() {
    }

    /** The test JVM's bearer token ({@link TestToken}). */
    static String token() {
        return TestToken.get();
    }

    static RequestSpecification authed() {
        // JSON, as every body the API takes must say it is (a request without a body may say so too).
        return given().header("Authorization", "Bearer " + token()).contentType("application/json");
    }

    /** GPU {@code gpu} falls off the bus: XID 79, and every NVML call on it answers GPU_IS_LOST. */
    static void loseGpu(int gpu) {
        FakeNvml.write("gpus = 8\nevent." + FakeNvml.nextEventNumber() + " = " + gpu + " xid 79\ngpu." + gpu + ".lost = 1\n");
    }

    /** How often the reset script ran for {@code gpu}. */
    static long resetsRun(int gpu) {
        try {
            if (!Files.exists(RESETS_LOG)) {
                return 0;
            }
            return Files.readAllLines(RESETS_LOG).stream().filter(l -> l.startsWith("reset " + gpu + " ")).count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Audit lines of one GPU, oldest first, with an id above {@code afterId}. */
    static List<Map<String, Object>> lines(int gpu, long afterId) {
        List<Map<String, Object>> all = given().queryParam("gpu", gpu).queryParam("limit", 1000).get("/v1/actions")
                .then().statusCode(200).extract().jsonPath().getList("actions");
        return all.stream().filter(l -> ((Number) l.get("id")).longValue() > afterId).toList();
    }

    /** The id of the newest audit line (0 when there is none). */
    static long lastLineId() {
        List<Map<String, Object>> all = given().queryParam("limit", 1).get("/v1/actions").then().statusCode(200)
                .extract().jsonPath().getList("actions");
        return all.isEmpty() ? 0 : ((Number) all.getFirst().get("id")).longValue();
    }

    static Map<String, Object> action(String actionId) {
        return given().get("/v1/actions/" + actionId).then().statusCode(200).extract().jsonPath().getMap("");
    }

    /** Waits until the action's status is one that ends it, and returns that status. */
    static String awaitEnd(String actionId) {
        String[] status = new String[1];
        FakeNvml.eventually(SOON, () -> {
            status[0] = (String) action(actionId).get("status");
            assertTrue(!"running".equals(status[0]), actionId + " still running");
        });
        return status[0];
    }

    /** Events fired before the agent registers for them are dropped (as on the real driver): wait for it. */
    static void awaitEventWatch() {
        FakeNvml.eventually(SOON, () -> assertTrue(given().get("/metrics").asString()
                .contains("gpu_agent_event_watch_gpus 8.0\n"), "not watching all 8 GPUs yet"));
    }

    static String metrics() {
        return given().get("/metrics").then().statusCode(200).extract().asString();
    }

    /** Every GPU readable, uncordoned and cleared again, and /health 200. */
    static void restoreAll() {
        FakeNvml.write(Machines.dgxH100());
        authed().post("/v1/recovery/breaker/reset").then().statusCode(200);
        for (int gpu = 0; gpu < 8; gpu++) {
            authed().post("/v1/gpus/" + gpu + "/uncordon");
        }
        FakeNvml.eventually(SOON, () -> {
            List<Map<String, Object>> gpus = given().get("/health").then().extract().jsonPath().getList("gpus");
            for (Map<String, Object> g : gpus) {
                if (!"HEALTHY".equals(g.get("state"))) {
                    authed().post("/v1/gpus/" + g.get("index") + "/health/clear");
                }
            }
            given().get("/health").then().statusCode(200);
        });
    }

    static List<String> steps(List<Map<String, Object>> lines, String result) {
        return lines.stream().filter(l -> result.equals(l.get("result"))).map(l -> (String) l.get("step")).toList();
    }
}
