package io.gpuagent.agent.recovery;

import static io.gpuagent.agent.recovery.RecoveryTestSupport.SOON;
import static io.gpuagent.agent.recovery.RecoveryTestSupport.authed;
import static io.gpuagent.agent.recovery.RecoveryTestSupport.lastLineId;
import static io.gpuagent.agent.recovery.RecoveryTestSupport.lines;
import static io.gpuagent.agent.recovery.RecoveryTestSupport.resetsRun;
import static io.gpuagent.agent.recovery.RecoveryTestSupport.steps;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.agent.http.problem.Problem;
import io.gpuagent.nvml.fake.FakeNvml;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.response.Response;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Observe mode (the default) and the operator API, on the fake driver: a fault is recorded with the action
 * enforce mode would take and nothing changes; operator requests are authenticated, serialised per GPU,
 * rate-limited and audited. A fresh state directory per run, so the rate limit starts empty.
 */
@QuarkusTest
@TestProfile(RecoveryApiTest.ObserveProfile.class)
class RecoveryApiTest {

    public static class ObserveProfile implements QuarkusTestProfile {
        static final String STATE = "target/recovery-state/observe-" + System.currentTimeMillis();

        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("gpu-agent.state-dir", STATE, "gpu-agent.recovery.mode", "observe");
        }
    }

    @AfterEach
    void restore() {
        RecoveryTestSupport.restoreAll();
    }

    @Test
    void xid79InObserveModeChangesNothingButRecordsTheRecommendation() throws InterruptedException {
        RecoveryTestSupport.awaitEventWatch();
        long after = lastLineId();
        long resets = resetsRun(5);
        RecoveryTestSupport.loseGpu(5);
        FakeNvml.eventually(SOON, () -> assertEquals(List.of("cordon", "drain", "reset", "verify"),
                steps(lines(5, after), "recommended")));
        Map<String, Object> reset = lines(5, after).stream().filter(l -> "reset".equals(l.get("step"))).findFirst().orElseThrow();
        assertTrue(((String) reset.get("trigger")).startsWith("policy:"), reset.toString());
        assertTrue(((String) reset.get("detail")).contains("observe mode"), reset.toString());
        // The recommendation is an ACTION event in the history too.
        List<Map<String, Object>> events = given().queryParam("gpu", 5).get("/v1/events").then().statusCode(200)
                .extract().jsonPath().getList("events");
        assertTrue(events.stream().anyMatch(e -> "action".equals(e.get("kind")) && "reset:recommended".equals(e.get("code"))),
                events.toString());

        Thread.sleep(1000);   // long enough for enforce mode to have cordoned, drained and reset
        List<Map<String, Object>> all = lines(5, after);
        assertTrue(all.stream().allMatch(l -> "recommended".equals(l.get("result"))), all.toString());
        assertEquals(resets, resetsRun(5), "the reset command never ran");
        given().get("/v1/recovery").then().statusCode(200).body("mode", equalTo("observe"))
                .body("cordoned.uuid", not(hasItem(reset.get("uuid"))));
        given().get("/health/gpus/5").then().statusCode(503).body("state", equalTo("LOST"));
        assertTrue(metrics().contains("gpu_agent_actions_total{action=\"reset\",result=\"recommended\""), metrics());
    }

    @Test
    void requestsWithoutOrWithAWrongTokenAreRejectedAndChangeNothing() {
        long after = lastLineId();
        for (String path : List.of("cordon", "uncordon", "drain", "reset", "health/clear")) {
            given().post("/v1/gpus/4/" + path).then().statusCode(401).contentType(Problem.MEDIA_TYPE);
            given().header("Authorization", "Bearer not-the-token").post("/v1/gpus/4/" + path).then().statusCode(403)
                    .contentType(Problem.MEDIA_TYPE);
        }
        given().post("/v1/recovery/breaker/reset").then().statusCode(401);
        assertEquals(List.of(), lines(4, after), "nothing audited, nothing done");
        assertEquals(after, lastLineId());
        given().get("/v1/recovery").then().body("cordoned.size()", equalTo(0));
    }

    @Test
    void cordonAndUncordonAreImmediateAndAudited() {
        long after = lastLineId();
        Response cordon = authed().body("{\"reason\": \"fan noise\"}").post("/v1/gpus/0/cordon");
        cordon.then().statusCode(200).body("status", equalTo("succeeded")).body("action", equalTo("cordon"))
                .body("steps[0].reason", equalTo("fan noise")).body("steps[0].trigger", containsString("operator:"));
        String uuid = cordon.jsonPath().getString("uuid");
        given().get("/v1/recovery").then().body("cordoned.uuid", hasItem(uuid)).body("cordoned[0].reason", equalTo("fan noise"));
        authed().post("/v1/gpus/" + uuid + "/uncordon").then().statusCode(200).body("status", equalTo("succeeded"));
        given().get("/v1/recovery").then().body("cordoned.size()", equalTo(0));
        assertEquals(List.of("cordon", "uncordon"), steps(lines(0, after), "succeeded"));
        given().queryParam("gpu", uuid).get("/v1/actions").then().statusCode(200).body("actions.step", hasItem("uncordon"));
    }

    @Test
    void fiftyConcurrentResetsOfOneGpuRunExactlyOneReset() throws Exception {
        long after = lastLineId();
        long resets = resetsRun(2);
        String token = RecoveryTestSupport.token();
        ExecutorService pool = Executors.newFixedThreadPool(50);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Response>> answers = new ArrayList<>();
        try {
            for (int i = 0; i < 50; i++) {
                Callable<Response> call = () -> {
                    go.await();
                    return given().header("Authorization", "Bearer " + token).post("/v1/gpus/2/reset");
                };
                answers.add(pool.submit(call));
            }
            go.countDown();
            List<Integer> statuses = new ArrayList<>();
            String accepted = null;
            for (Future<Response> f : answers) {
                Response r = f.get();
                statuses.add(r.statusCode());
                if (r.statusCode() == 202) {
                    accepted = r.jsonPath().getString("actionId");
                    assertTrue(r.header("Location").endsWith("/v1/actions/" + accepted), r.header("Location"));
                } else {
                    assertEquals(Problem.MEDIA_TYPE, r.contentType(), r.asString());
                    assertTrue(r.statusCode() == 409 || r.statusCode() == 429, r.asString());
                }
            }
            assertEquals(1, statuses.stream().filter(s -> s == 202).count(), statuses.toString());
            assertEquals("succeeded", RecoveryTestSupport.awaitEnd(accepted));
        } finally {
            pool.shutdownNow();
        }
        assertEquals(resets + 1, resetsRun(2), "the reset command ran once");
        List<Map<String, Object>> audit = lines(2, after);
        assertEquals(1, audit.stream().filter(l -> "reset".equals(l.get("step")) && "started".equals(l.get("result"))).count());
        assertEquals(49, audit.stream().filter(l -> "request".equals(l.get("step")) && "rejected".equals(l.get("result"))).count(),
                "every refused request is audited");
        assertEquals(List.of("cordon", "reset", "verify", "uncordon", "request"), steps(audit, "succeeded"));
    }

    @Test
    void aSecondResetWithinTheWindowIsRateLimited() {
        Response first = authed().post("/v1/gpus/3/reset");
        first.then().statusCode(202).body("status", equalTo("running"));
        assertEquals("succeeded", RecoveryTestSupport.awaitEnd(first.jsonPath().getString("actionId")));
        long resets = resetsRun(3);

        Response second = authed().post("/v1/gpus/3/reset?force=true");
        second.then().statusCode(429).contentType(Problem.MEDIA_TYPE)
                .body("detail", containsString("rate limited")).body("detail", containsString("gpu-agent.recovery.reset-limit"));
        long retryAfter = Long.parseLong(second.header("Retry-After"));
        assertTrue(retryAfter > 3000 && retryAfter <= 3601, "Retry-After " + retryAfter);
        String instance = second.jsonPath().getString("instance");
        given().get(instance).then().statusCode(200).body("status", equalTo("rejected"));
        assertEquals(resets, resetsRun(3));
    }

    @Test
    void aResetOfABusyGpuIsRefusedUnlessForced() {
        FakeNvml.write("gpus = 8\ngpu.4.compute_processes = 4242:1024\n");
        FakeNvml.eventually(SOON, () -> given().get("/v1/gpus/4").then().body("processes.pid", hasItem(4242)));
        long resets = resetsRun(4);
        authed().post("/v1/gpus/4/reset").then().statusCode(409).contentType(Problem.MEDIA_TYPE)
                .body("detail", containsString("not drained")).body("detail", containsString("4242"))
                .body("detail", containsString("force=true"));
        assertEquals(resets, resetsRun(4));

        // A drain does not get past a process that stays (observe mode still runs operator requests).
        Response drain = authed().post("/v1/gpus/4/drain");
        drain.then().statusCode(202);
        String id = drain.jsonPath().getString("actionId");
        assertEquals("failed", RecoveryTestSupport.awaitEnd(id));
        Map<String, Object> failed = RecoveryTestSupport.action(id);
        assertTrue(failed.toString().contains("deadline"), failed.toString());
        given().get("/v1/recovery").then().body("cordoned.size()", equalTo(1));
        authed().post("/v1/gpus/4/uncordon").then().statusCode(200);

        Response forced = authed().post("/v1/gpus/4/reset?force=true");
        forced.then().statusCode(202);
        assertEquals("succeeded", RecoveryTestSupport.awaitEnd(forced.jsonPath().getString("actionId")));
        assertEquals(resets + 1, resetsRun(4));
    }

    @Test
    void badRequestsAreProblems() {
        authed().post("/v1/gpus/42/cordon").then().statusCode(404).contentType(Problem.MEDIA_TYPE);
        authed().post("/v1/gpus/nope/reset").then().statusCode(400).contentType(Problem.MEDIA_TYPE);
        authed().body("[1]").post("/v1/gpus/1/cordon").then().statusCode(400).contentType(Problem.MEDIA_TYPE);
        authed().post("/v1/gpus/1/reset?force=maybe").then().statusCode(400).contentType(Problem.MEDIA_TYPE);
        given().queryParam("limit", 0).get("/v1/actions").then().statusCode(400).contentType(Problem.MEDIA_TYPE);
        given().queryParam("gpu", "x").get("/v1/actions").then().statusCode(400);
        given().get("/v1/actions/00000000-0000-4000-8000-000000000000").then().statusCode(404)
                .contentType(Problem.MEDIA_TYPE);
        given().get("/v1/actions/no-such-action").then().statusCode(400).contentType(Problem.MEDIA_TYPE);
        given().get("/v1/recovery").then().statusCode(200).body("policy.xid_79", equalTo(List.of("cordon", "drain", "reset")));
        // Issue 11: a matrix parameter must not quietly act on GPU 0; a malformed breaker body is not ignored.
        long after = lastLineId();
        authed().urlEncodingEnabled(false).post("/v1/gpus/0;1/drain").then().statusCode(400).contentType(Problem.MEDIA_TYPE);
        authed().urlEncodingEnabled(false).post("/v1/gpus/0;gpu=1/cordon").then().statusCode(400);
        authed().body("{\"reason\": 7}").post("/v1/recovery/breaker/reset").then().statusCode(400).contentType(Problem.MEDIA_TYPE);
        authed().body("not json").post("/v1/recovery/breaker/reset").then().statusCode(400);
        // Issue 19: one spelling per GPU, no unknown field, a JSON body only, each parameter once.
        authed().urlEncodingEnabled(false).post("/v1/gpus/00/cordon").then().statusCode(400);
        authed().body("{\"reason\": \"x\", \"gpu\": 1}").post("/v1/gpus/0/cordon").then().statusCode(400)
                .body("detail", containsString("unknown field \"gpu\""));
        authed().body("{\"reson\": \"x\"}").post("/v1/recovery/breaker/reset").then().statusCode(400);
        authed().contentType("text/plain").body("{\"reason\": \"x\"}").post("/v1/gpus/0/cordon").then().statusCode(415)
                .contentType(Problem.MEDIA_TYPE);
        authed().post("/v1/gpus/0/reset?force=false&force=true").then().statusCode(400);
        assertEquals(List.of(), lines(0, after), "nothing acted on GPU 0");
        authed().body("{\"reason\": \"driver reloaded\"}").post("/v1/recovery/breaker/reset").then().statusCode(200);
    }

    private static String metrics() {
        return RecoveryTestSupport.metrics();
    }
}
