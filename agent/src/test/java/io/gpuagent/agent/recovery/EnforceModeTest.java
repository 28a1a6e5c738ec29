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
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.agent.sampler.SamplerService;
import io.gpuagent.exporter.GpuSample;
import io.gpuagent.exporter.GpuStatus;
import io.gpuagent.exporter.Snapshot;
import io.gpuagent.nvml.fake.FakeNvml;
import io.gpuagent.nvml.fake.Machines;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Enforce mode on the fake driver, with a reset command (src/test/resources/recovery/reset-gpu.sh) that
 * brings a lost GPU back by rewriting the scenario: the policy runs, escalates, stops at the node breaker,
 * drains by terminating processes at the deadline, and notifies a webhook that fails twice.
 */
@QuarkusTest
@TestProfile(EnforceModeTest.EnforceProfile.class)
class EnforceModeTest {

    public static class EnforceProfile implements QuarkusTestProfile {
        static final String STATE = "target/recovery-state/enforce-" + System.currentTimeMillis();
        /** Long enough for DrainLeaseTest to look at a waiting drain and release its lease before the deadline. */
        static final Duration DRAIN_DEADLINE = Duration.ofSeconds(8);

        @Override
        public Map<String, String> getConfigOverrides() {
            RecoveryTestSupport.token();   // enforce mode refuses to start without a private token file
            return Map.of("gpu-agent.state-dir", STATE, "gpu-agent.recovery.mode", "enforce",
                    "gpu-agent.recovery.drain-on-deadline", "terminate",
                    "gpu-agent.recovery.drain-deadline", DRAIN_DEADLINE.toSeconds() + "s",
                    "gpu-agent.recovery.notify-urls", WebhookReceiver.start());
        }
    }

    @AfterEach
    void restore() throws Exception {
        Files.deleteIfExists(Path.of("target/recovery/fail-reset-6"));
        RecoveryTestSupport.restoreAll();
    }

    @Inject
    SamplerService sampler;

    /** Snapshots published while a test watches; the listener stays registered, so it records only then. */
    private static final List<Snapshot> SEEN = new CopyOnWriteArrayList<>();
    private static volatile boolean watching;

    @Test
    void xid79RunsCordonDrainResetVerifyAndTheGpuReturnsHealthy() throws Exception {
        RecoveryTestSupport.awaitEventWatch();
        long after = lastLineId();
        long resets = resetsRun(1);
        SEEN.clear();
        sampler.onSnapshot(snap -> {
            if (watching) {
                SEEN.add(snap);
            }
        });
        watching = true;
        RecoveryTestSupport.loseGpu(1);
        FakeNvml.eventually(SOON, () -> given().get("/health/gpus/1").then().body("state", equalTo("LOST")));
        FakeNvml.eventually(SOON, () -> assertTrue(steps(lines(1, after), "succeeded").contains("request"),
                lines(1, after).toString()));
        List<Map<String, Object>> audit = lines(1, after);
        assertEquals(List.of("cordon", "drain", "reset", "verify", "uncordon", "request"), steps(audit, "succeeded"),
                audit.toString());
        assertEquals(List.of("request", "cordon", "drain", "reset", "verify", "uncordon"), steps(audit, "started"));
        Map<String, Object> request = audit.getFirst();
        assertEquals("recover", request.get("action"));
        assertTrue(((String) request.get("trigger")).startsWith("policy:"), request.toString());
        assertEquals(resets + 1, resetsRun(1));
        // The reset script refuses while any process holds NVML (the fake's holders files): it ran once, by
        // UUID, and was not refused, so the agent had let go of NVML for it.
        List<String> log = Files.readAllLines(RecoveryTestSupport.RESETS_LOG);
        String uuid = (String) audit.getFirst().get("uuid");
        assertTrue(log.stream().anyMatch(l -> l.startsWith("reset 1 " + uuid + " ")), log.toString());
        assertTrue(log.stream().noneMatch(l -> l.startsWith("refused 1 ")), log.toString());
        // Meanwhile the other GPUs were served from the last readings, marked stale; fresh again after.
        FakeNvml.eventually(SOON, () -> assertTrue(SEEN.getLast().gpu(0).map(g -> g.status() == GpuStatus.OK
                && g.readAt().isAfter(releasedAt(SEEN))).orElse(false)));
        watching = false;
        assertTrue(SEEN.stream().allMatch(snap -> snap.nvmlUp() && snap.gpu(0).isPresent()),
                "NVML never looked down and GPU 0 never vanished while it was released and initialised again");
        assertTrue(SEEN.stream().anyMatch(snap -> snap.gpu(0).orElseThrow().isReleased()
                && snap.gpu(0).orElseThrow().statusReason().contains("reset")), "GPU 0 served stale during the reset");
        given().get("/health/gpus/0").then().statusCode(200).body("state", equalTo("HEALTHY"));
        given().get("/health/gpus/1").then().statusCode(200).body("state", equalTo("HEALTHY"));
        given().get("/v1/recovery").then().body("mode", equalTo("enforce")).body("cordoned.size()", equalTo(0));
        String metrics = RecoveryTestSupport.metrics();
        assertTrue(metrics.contains("gpu_agent_actions_total{action=\"reset\",result=\"succeeded\""), metrics);
        // Every step also went to the webhook.
        String actionId = (String) request.get("actionId");
        FakeNvml.eventually(SOON, () -> assertTrue(WebhookReceiver.statuses(actionId).size() >= 12,
                "webhook got " + WebhookReceiver.statuses(actionId)));
    }

    private static java.time.Instant releasedAt(List<Snapshot> seen) {
        return seen.stream().filter(snap -> snap.gpu(0).map(GpuSample::isReleased).orElse(false)).map(Snapshot::takenAt)
                .reduce((a, b) -> b).orElseThrow(() -> new AssertionError("NVML was never released: " + seen.size()));
    }

    @Test
    void aResetThatFailsEscalatesToARebootRequest() throws Exception {
        RecoveryTestSupport.awaitEventWatch();
        Files.createDirectories(Path.of("target/recovery"));
        Files.writeString(Path.of("target/recovery/fail-reset-6"), "");
        long after = lastLineId();
        RecoveryTestSupport.loseGpu(6);
        FakeNvml.eventually(SOON, () -> assertTrue(steps(lines(6, after), "failed").contains("request"),
                lines(6, after).toString()));
        List<Map<String, Object>> audit = lines(6, after);
        assertEquals(List.of("reset", "request"), steps(audit, "failed"), audit.toString());
        assertEquals(List.of("cordon", "drain", "request_reboot"), steps(audit, "succeeded"));
        assertTrue(audit.getLast().get("detail").toString().contains("escalated to request_reboot"), audit.getLast().toString());
        assertTrue(RecoveryTestSupport.metrics().contains("gpu_agent_reboot_requested 1.0"));
        given().get("/v1/recovery").then().body("rebootRequested", equalTo(true))
                .body("cordoned.uuid", hasItem(audit.getFirst().get("uuid")));
    }

    @Test
    void whenMostGpusFailTheBreakerOpensAndNothingActs() {
        long after = lastLineId();
        int[] failing = {0, 2, 3, 4, 5};
        long[] resets = new long[8];
        StringBuilder scenario = new StringBuilder("gpus = 8\n");
        for (int gpu : failing) {
            resets[gpu] = resetsRun(gpu);
            scenario.append("gpu.").append(gpu).append(".lost = 1\n");
        }
        FakeNvml.write(scenario.toString());
        FakeNvml.eventually(SOON, () -> assertTrue(RecoveryTestSupport.metrics()
                .contains("gpu_agent_recovery_breaker_open 1.0"), "breaker still closed"));
        FakeNvml.eventually(SOON, () -> {
            for (int gpu : failing) {
                assertEquals(List.of("request"), steps(lines(gpu, after), "skipped"), "GPU " + gpu);
            }
        });
        for (int gpu : failing) {
            List<Map<String, Object>> audit = lines(gpu, after);
            assertTrue(audit.getFirst().get("detail").toString().contains("node breaker open"), audit.toString());
            assertEquals(List.of(), steps(audit, "started"), "nothing ran on GPU " + gpu);
            assertEquals(resets[gpu], resetsRun(gpu));
        }
        given().get("/v1/recovery").then().body("breakerOpen", equalTo(true))
                .body("breakerReason", containsString("5 of 8 GPUs")).body("cordoned.size()", equalTo(0));
        // An operator may still act while it is open.
        authed().post("/v1/gpus/7/cordon").then().statusCode(200).body("status", equalTo("succeeded"));

        given().post("/v1/recovery/breaker/reset").then().statusCode(401);
        authed().post("/v1/recovery/breaker/reset").then().statusCode(200).body("wasOpen", equalTo(true))
                .body("status.breakerOpen", equalTo(false));
        assertTrue(RecoveryTestSupport.metrics().contains("gpu_agent_recovery_breaker_open 0.0"));
        FakeNvml.write(Machines.dgxH100());
    }

    @Test
    void aDrainTerminatesTheGpusProcessesAtItsDeadline() throws Exception {
        Process job = new ProcessBuilder("sleep", "300").start();
        try {
            FakeNvml.write("gpus = 8\ngpu.7.compute_processes = " + job.pid() + ":2048\n");
            FakeNvml.eventually(SOON, () -> given().get("/v1/gpus/7").then().body("processes.pid", hasItem((int) job.pid())));
            Response drain = authed().body("{\"reason\": \"maintenance\"}").post("/v1/gpus/7/drain");
            drain.then().statusCode(202);
            String id = drain.jsonPath().getString("actionId");
            assertEquals("succeeded", RecoveryTestSupport.awaitEnd(id));
            assertTrue(job.waitFor(5, TimeUnit.SECONDS), "the job's process was terminated");
            String drained = RecoveryTestSupport.action(id).toString();
            assertTrue(drained.contains("PID " + job.pid() + " exited after SIGTERM"), drained);
            given().get("/v1/recovery").then().body("cordoned.uuid", hasItem(drain.jsonPath().getString("uuid")));
        } finally {
            job.destroyForcibly();
        }
    }

    @Test
    void aDrainSignalsWhatNvmlListsNowNotWhatAStaleSnapshotSays() throws Exception {
        Process before = new ProcessBuilder("sleep", "300").start();
        Process now = new ProcessBuilder("sleep", "300").start();
        try {
            FakeNvml.write("gpus = 8\ngpu.5.compute_processes = " + before.pid() + ":2048\n");
            FakeNvml.eventually(SOON, () -> given().get("/v1/gpus/5").then().body("processes.pid", hasItem((int) before.pid())));
            // The GPU hangs in the process query: the snapshot keeps the old list (STALE) while NVML now lists
            // another process. Only the process NVML lists at signal time may be terminated.
            FakeNvml.write("gpus = 8\ngpu.5.compute_processes = " + now.pid() + ":2048\n"
                    + "gpu.5.latency_ms.nvmlDeviceGetComputeRunningProcesses_v3 = 2500\n");
            FakeNvml.eventually(SOON, () -> given().get("/v1/gpus/5").then().body("status", equalTo("STALE")));
            Response drain = authed().body("{\"reason\": \"maintenance\"}").post("/v1/gpus/5/drain");
            drain.then().statusCode(202);
            String id = drain.jsonPath().getString("actionId");
            RecoveryTestSupport.awaitEnd(id);
            assertTrue(now.waitFor(10, TimeUnit.SECONDS), "the process NVML lists now was terminated");
            assertTrue(before.isAlive(), "a PID from the stale snapshot was not signalled");
            assertTrue(RecoveryTestSupport.action(id).toString().contains("PID " + now.pid()), RecoveryTestSupport.action(id).toString());
        } finally {
            before.destroyForcibly();
            now.destroyForcibly();
            FakeNvml.write(Machines.dgxH100());
        }
    }

    @Test
    void aWebhookThatFailsTwiceGetsTheNotificationOnTheThirdTry() {
        String marker = "notify-" + System.nanoTime();
        WebhookReceiver.failTwice(marker);
        authed().body("{\"reason\": \"" + marker + "\"}").post("/v1/gpus/7/cordon").then().statusCode(200);
        // Retried with backoff (0.5 s, then 1 s) by SmallRye Fault Tolerance; never in the way of the cordon.
        // Two audit lines carry the marker (the cordon is audited before it acts, then its result): the first two
        // deliveries fail, the retry and the second line get through.
        FakeNvml.eventually(SOON, () -> assertEquals(List.of(503, 503, 204, 204), WebhookReceiver.statuses(marker)));
        String metrics = RecoveryTestSupport.metrics();
        assertTrue(metrics.contains("gpu_agent_notifications_total{result=\"delivered\""), metrics);
    }

    @Test
    void sustainedHeatLowersThePowerLimitAndItIsRestoredOnceHealthy() {
        long after = lastLineId();
        FakeNvml.write("gpus = 8\ngpu.3.temp = 90\n");   // slowdown threshold 89 C (shutdown 92 C), thermal window 1 s in tests
        FakeNvml.eventually(SOON, () -> given().get("/v1/gpus/3").then().body("readings.power_limit_w", equalTo(560.0f)));
        FakeNvml.eventually(SOON, () -> assertTrue(steps(lines(3, after), "succeeded").contains("request")));
        List<Map<String, Object>> capped = lines(3, after);
        assertEquals(List.of("power_cap", "reset_clocks", "request"), steps(capped, "succeeded"), capped.toString());
        assertTrue(capped.toString().contains("power limit 700000 mW -> 560000 mW (80% of the default 700000 mW)"),
                capped.toString());
        given().get("/v1/recovery").then().body("powerCapped.size()", equalTo(1));

        long cooled = lastLineId();
        FakeNvml.write("gpus = 8\ngpu.3.temp = 40\n");
        FakeNvml.eventually(SOON, () -> given().get("/v1/gpus/3").then().body("readings.power_limit_w", equalTo(700.0f)));
        FakeNvml.eventually(SOON, () -> assertEquals(List.of("power_restore", "request"), steps(lines(3, cooled), "succeeded")));
        given().get("/v1/recovery").then().body("powerCapped.size()", equalTo(0));
    }

    @Test
    void aPowerLimitNvmlRefusesForLackOfPrivilegeIsRejectedWithTheFix() {
        long after = lastLineId();
        FakeNvml.write("gpus = 8\ngpu.2.temp = 90\ngpu.2.error.nvmlDeviceSetPowerManagementLimit_v2 = 4\n");
        FakeNvml.eventually(SOON, () -> assertTrue(steps(lines(2, after), "rejected").contains("request")));
        List<Map<String, Object>> audit = lines(2, after);
        // NO_PERMISSION: nothing changed on the GPU, so rejected (not failed), naming the drop-in that grants it.
        assertEquals(List.of("power_cap", "request"), steps(audit, "rejected"), audit.toString());
        assertTrue(audit.toString().contains("NO_PERMISSION; the agent needs CAP_SYS_ADMIN")
                && audit.toString().contains("enforce.conf"), audit.toString());
        given().get("/v1/gpus/2").then().body("readings.power_limit_w", equalTo(700.0f));
    }
}
