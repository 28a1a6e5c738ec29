package io.gpuagent.agent.recovery;

import static io.gpuagent.agent.recovery.RecoveryTestSupport.SOON;
import static io.gpuagent.agent.recovery.RecoveryTestSupport.lastLineId;
import static io.gpuagent.agent.recovery.RecoveryTestSupport.lines;
import static io.gpuagent.agent.recovery.RecoveryTestSupport.steps;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.nvml.fake.FakeNvml;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Enforce mode as the packaged drop-in sets it up: reset, power cap, power restore and clock reset asked of
 * gpu-agent-privileged over its unix socket (the real program behind {@link AcceptSocket}, with a stand-in
 * nvidia-smi, src/test/resources/recovery/nvidia-smi, that acts on the fake driver), under the same rails and
 * audit log as the in-process path.
 */
@QuarkusTest
@TestProfile(PrivilegedRecoveryTest.PrivilegedProfile.class)
class PrivilegedRecoveryTest {

    public static class PrivilegedProfile implements QuarkusTestProfile {
        static final String STATE = "target/recovery-state/privileged-" + System.currentTimeMillis();
        private static AcceptSocket helper;

        static synchronized AcceptSocket helper() {
            if (helper == null) {
                try {
                    helper = AcceptSocket.start(Path.of("target/recovery/privileged-" + ProcessHandle.current().pid() + ".sock")
                            .toAbsolutePath(), Path.of("src/test/resources/recovery/nvidia-smi"));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
            return helper;
        }

        @Override
        public Map<String, String> getConfigOverrides() {
            RecoveryTestSupport.token();   // enforce mode refuses to start without a private token file
            return Map.of("gpu-agent.state-dir", STATE, "gpu-agent.recovery.mode", "enforce",
                    "gpu-agent.recovery.privileged-socket", helper().path().toString());
        }
    }

    static final Path DENY_GPU_2 = Path.of("target/recovery/smi-deny-2");

    @AfterEach
    void restore() throws Exception {
        Files.deleteIfExists(DENY_GPU_2);
        RecoveryTestSupport.restoreAll();
    }

    @Test
    void xid79IsResetByTheHelperWhileTheAgentHasLetGoOfNvml() throws Exception {
        RecoveryTestSupport.awaitEventWatch();
        long after = lastLineId();
        int before = PrivilegedProfile.helper().requests().size();
        RecoveryTestSupport.loseGpu(1);
        FakeNvml.eventually(SOON, () -> assertTrue(steps(lines(1, after), "succeeded").contains("request"),
                lines(1, after).toString()));
        List<Map<String, Object>> audit = lines(1, after);
        assertEquals(List.of("cordon", "drain", "reset", "verify", "uncordon", "request"), steps(audit, "succeeded"),
                audit.toString());
        String uuid = (String) audit.getFirst().get("uuid");
        assertEquals(List.of("reset " + uuid), PrivilegedProfile.helper().requests().subList(before,
                PrivilegedProfile.helper().requests().size()));
        assertTrue(audit.toString().contains("gpu-agent-privileged reset: ok (exit 0): GPU 1 reset"), audit.toString());
        // The helper's nvidia-smi ran the reset, and the reset script found no process holding NVML: the agent
        // let go of it around the request, as around its own reset command.
        assertTrue(Files.readAllLines(Path.of("target/recovery/nvidia-smi.log")).contains("--gpu-reset -i " + uuid));
        List<String> resets = Files.readAllLines(RecoveryTestSupport.RESETS_LOG);
        assertTrue(resets.stream().anyMatch(l -> l.startsWith("reset 1 " + uuid + " ")), resets.toString());
        assertTrue(resets.stream().noneMatch(l -> l.startsWith("refused 1 ")), resets.toString());
        given().get("/health/gpus/1").then().statusCode(200).body("state", equalTo("HEALTHY"));
    }

    @Test
    void sustainedHeatCapsThePowerThroughTheHelperAndRestoresIt() {
        long after = lastLineId();
        int before = PrivilegedProfile.helper().requests().size();
        FakeNvml.write("gpus = 8\ngpu.3.temp = 90\n");
        FakeNvml.eventually(SOON, () -> given().get("/v1/gpus/3").then().body("readings.power_limit_w", equalTo(560.0f)));
        FakeNvml.eventually(SOON, () -> assertTrue(steps(lines(3, after), "succeeded").contains("request")));
        List<Map<String, Object>> capped = lines(3, after);
        assertEquals(List.of("power_cap", "reset_clocks", "request"), steps(capped, "succeeded"), capped.toString());
        assertTrue(capped.toString().contains("power limit 700000 mW -> 560000 mW")
                && capped.toString().contains("locked GPU clocks reset, locked memory clocks not supported, application clocks reset"),
                capped.toString());
        String uuid = (String) capped.getFirst().get("uuid");
        given().get("/v1/recovery").then().body("powerCapped.size()", equalTo(1));

        long cooled = lastLineId();
        FakeNvml.write("gpus = 8\ngpu.3.temp = 40\n");
        FakeNvml.eventually(SOON, () -> assertEquals(List.of("power_restore", "request"), steps(lines(3, cooled), "succeeded")));
        given().get("/v1/recovery").then().body("powerCapped.size()", equalTo(0));
        List<String> requests = PrivilegedProfile.helper().requests();
        assertEquals(List.of("set-power-limit " + uuid + " 560", "reset-clocks " + uuid, "set-power-limit " + uuid + " 700"),
                requests.subList(before, requests.size()));
    }

    @Test
    void theHelperWithoutPermissionRejectsThePowerCapWithTheFix() throws Exception {
        Files.createDirectories(DENY_GPU_2.getParent());
        Files.writeString(DENY_GPU_2, "");
        long after = lastLineId();
        FakeNvml.write("gpus = 8\ngpu.2.temp = 90\n");
        FakeNvml.eventually(SOON, () -> assertTrue(steps(lines(2, after), "rejected").contains("request")));
        List<Map<String, Object>> audit = lines(2, after);
        // Rejected, not failed: nothing changed on the GPU, and the line names what to fix.
        assertEquals(List.of("power_cap", "request"), steps(audit, "rejected"), audit.toString());
        assertTrue(audit.toString().contains("failed (exit 4): Insufficient Permissions")
                && audit.toString().contains("CapabilityBoundingSet=CAP_SYS_ADMIN"), audit.toString());
        given().get("/v1/gpus/2").then().body("readings.power_limit_w", equalTo(700.0f));
    }
}
