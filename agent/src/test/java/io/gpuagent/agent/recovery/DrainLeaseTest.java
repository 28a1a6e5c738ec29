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
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.agent.journal.EventLog;
import io.gpuagent.agent.lease.LeaseEvents;
import io.gpuagent.agent.lease.LeaseTestSupport;
import io.gpuagent.nvml.fake.FakeNvml;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 6, "drain (recovery) waits for or ends its lease", against the real lease book through its API: a drain
 * of a leased GPU cordons it and waits while the lease lives, completes (and its plan goes on) once the lease is
 * released, and at {@code drain-deadline} with {@code drain-on-deadline=terminate} ends the lease itself. Runs in
 * {@link EnforceModeTest}'s profile, whose drain deadline leaves time to look at a waiting drain.
 */
@QuarkusTest
@TestProfile(EnforceModeTest.EnforceProfile.class)
class DrainLeaseTest {

    /** Several drain polls (half the 200 ms sample interval each), well inside the drain deadline. */
    static final Duration WAITING = Duration.ofMillis(1500);

    @Inject
    EventLog events;

    @AfterEach
    void restore() {
        LeaseTestSupport.releaseAll();
        RecoveryTestSupport.restoreAll();
    }

    @Test
    void aDrainWaitsWhileTheGpuIsLeasedAndCompletesOnceTheLeaseIsReleased() throws Exception {
        String uuid = uuidOf(0);
        String leaseId = lease("job-drained", uuid);
        int drainedBefore = slurmDrains(0).size();
        String id = drain(0);
        FakeNvml.eventually(SOON, () -> assertTrue(steps(actionLines(id), "started").contains("drain")));
        // The drain-command (the test profile's stub scontrol) drained the Slurm node, naming the GPU.
        FakeNvml.eventually(SOON, () -> assertEquals(drainedBefore + 1, slurmDrains(0).size(), slurmDrains(0).toString()));
        Thread.sleep(WAITING.toMillis());

        // Waiting: the drain has started and not ended, the lease is intact, and the cordon keeps new leases off.
        List<Map<String, Object>> waiting = actionLines(id);
        assertEquals("running", RecoveryTestSupport.action(id).get("status"), waiting.toString());
        assertEquals(List.of("cordon"), steps(waiting, "succeeded"), waiting.toString());
        given().get("/v1/leases/" + leaseId).then().statusCode(200);
        given().get("/v1/recovery").then().body("cordoned.uuid", hasItem(uuid));
        grant("job-other", uuid).then().statusCode(409).body("detail", containsString("GPU 0 is cordoned"));
        // An uncordon now would let the next job in only for the drain to end it: it waits for the drain (409).
        authed().post("/v1/gpus/0/uncordon").then().statusCode(409).body("detail", containsString(id));
        given().get("/v1/recovery").then().body("cordoned.uuid", hasItem(uuid));
        grant("job-other", uuid).then().statusCode(409).body("detail", containsString("GPU 0 is cordoned"));

        authed().delete("/v1/leases/" + leaseId).then().statusCode(200);
        assertEquals("succeeded", RecoveryTestSupport.awaitEnd(id));
        Map<String, Object> drained = finished(actionLines(id), "drain");
        assertTrue(drained.get("detail").toString().contains("no lease, no processes"), drained.toString());
        assertTrue(((Number) drained.get("durationMs")).longValue() >= WAITING.toMillis(), "waited for the release: " + drained);
        // An operator's drain leaves the GPU cordoned: still no new lease on it.
        grant("job-other", uuid).then().statusCode(409).body("detail", containsString("GPU 0 is cordoned"));
    }

    @Test
    void aLeasedGpuThatFailsIsResetOnlyOnceItsLeaseIsReleased() throws Exception {
        RecoveryTestSupport.awaitEventWatch();
        String uuid = uuidOf(4);
        String leaseId = lease("job-on-failing-gpu", uuid);
        long after = lastLineId();
        long resets = resetsRun(4);
        int notified = WebhookReceiver.statuses(LeaseEvents.LEASED_GPU_UNHEALTHY).size();
        RecoveryTestSupport.loseGpu(4);
        // The job's owner hears of it: the leased-GPU event goes to the webhook (notify-urls in this profile).
        FakeNvml.eventually(SOON, () -> assertTrue(WebhookReceiver.statuses(LeaseEvents.LEASED_GPU_UNHEALTHY).size() > notified,
                "webhook bodies with " + LeaseEvents.LEASED_GPU_UNHEALTHY));
        FakeNvml.eventually(SOON, () -> assertTrue(steps(lines(4, after), "started").contains("drain"),
                lines(4, after).toString()));
        Thread.sleep(WAITING.toMillis());

        List<Map<String, Object>> waiting = lines(4, after);
        assertEquals(List.of("cordon"), steps(waiting, "succeeded"), waiting.toString());
        assertFalse(steps(waiting, "started").contains("reset"), waiting.toString());
        assertEquals(resets, resetsRun(4), "no reset while the job holds the GPU");
        given().get("/v1/recovery").then().body("cordoned.uuid", hasItem(uuid));
        given().get("/v1/leases/" + leaseId).then().statusCode(200);

        authed().delete("/v1/leases/" + leaseId).then().statusCode(200);
        FakeNvml.eventually(SOON, () -> assertTrue(steps(lines(4, after), "succeeded").contains("request"),
                lines(4, after).toString()));
        List<Map<String, Object>> audit = lines(4, after);
        assertEquals(List.of("cordon", "drain", "reset", "verify", "uncordon", "request"), steps(audit, "succeeded"),
                audit.toString());
        assertEquals(resets + 1, resetsRun(4));
        given().get("/health/gpus/4").then().body("state", equalTo("HEALTHY"));
        given().get("/v1/recovery").then().body("cordoned.size()", equalTo(0));
    }

    @Test
    void atTheDeadlineTheDrainEndsTheLease() {
        long before = events.lastId();
        String uuid = uuidOf(5);
        String leaseId = lease("job-overstaying", uuid);
        String id = drain(5);
        FakeNvml.eventually(SOON, () -> assertTrue(steps(actionLines(id), "started").contains("drain")));
        given().get("/v1/leases/" + leaseId).then().statusCode(200);

        assertEquals("succeeded", RecoveryTestSupport.awaitEnd(id));
        Map<String, Object> drained = finished(actionLines(id), "drain");
        assertTrue(drained.get("detail").toString().contains("deadline " + EnforceModeTest.EnforceProfile.DRAIN_DEADLINE
                + " passed: ended 1 lease(s)"), drained.toString());
        assertTrue(((Number) drained.get("durationMs")).longValue() >= EnforceModeTest.EnforceProfile.DRAIN_DEADLINE.toMillis(),
                drained.toString());
        given().get("/v1/leases/" + leaseId).then().statusCode(404);
        // Ended through the lease book (GpuLeases.endLeasesOn): journaled and announced like a release.
        assertTrue(events.since(before, null, null, 1000).stream().anyMatch(e -> LeaseEvents.ENDED.equals(e.code())
                && e.message().contains(leaseId) && e.message().contains("drain deadline passed")), "lease-ended event");
    }

    private static String drain(int gpu) {
        Response r = authed().body("{\"reason\": \"maintenance\"}").post("/v1/gpus/" + gpu + "/drain");
        r.then().statusCode(202);
        return r.jsonPath().getString("actionId");
    }

    /** Leases the GPU to {@code job}, waiting until it is leasable (the previous test may just have cleared it). */
    private static String lease(String job, String uuid) {
        String[] id = new String[1];
        FakeNvml.eventually(SOON, () -> id[0] = grant(job, uuid).then().statusCode(201).extract().path("leaseId"));
        return id[0];
    }

    private static Response grant(String job, String uuid) {
        return authed().contentType(ContentType.JSON)
                .body("{\"jobId\":\"" + job + "\",\"uuids\":[\"" + uuid + "\"],\"ttlSeconds\":600}").post("/v1/leases");
    }

    private static String uuidOf(int index) {
        return given().get("/v1/inventory").then().statusCode(200).extract().path("gpus[" + index + "].uuid");
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> actionLines(String actionId) {
        return (List<Map<String, Object>>) RecoveryTestSupport.action(actionId).get("steps");
    }

    private static Map<String, Object> finished(List<Map<String, Object>> lines, String step) {
        return lines.stream().filter(l -> step.equals(l.get("step")) && !"started".equals(l.get("result"))).findFirst()
                .orElseThrow(() -> new AssertionError("no finished " + step + " line in " + lines));
    }

    /** The stub scontrol's recorded {@code update ... State=DRAIN} calls for GPU {@code index} (test profile's drain-command). */
    static List<String> slurmDrains(int index) {
        Path calls = Path.of("target/slurm/scontrol.calls");
        try {
            return !Files.exists(calls) ? List.of() : Files.readAllLines(calls).stream()
                    .filter(l -> l.startsWith("update\tNodeName=test-node\tState=DRAIN\tReason=gpu-agent: GPU " + index + " "))
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
