package io.gpuagent.agent.recovery;

import static io.gpuagent.agent.recovery.RecoveryTestSupport.SOON;
import static io.gpuagent.agent.recovery.RecoveryTestSupport.lastLineId;
import static io.gpuagent.agent.recovery.RecoveryTestSupport.lines;
import static io.gpuagent.agent.recovery.RecoveryTestSupport.steps;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.agent.sampler.SamplerService;
import io.gpuagent.nvml.fake.FakeNvml;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Enforce mode with the fake DCGM embedded (gpu-agent.dcgm.mode=embedded): DCGM is let go of for the reset and
 * comes back, the verify step runs the r1 diagnostic, a failing diagnostic keeps the GPU out with the failing
 * test named, and a DCGM health incident is a reason of /health.
 */
@QuarkusTest
@TestProfile(DcgmRecoveryTest.DcgmProfile.class)
class DcgmRecoveryTest {

    public static class DcgmProfile implements QuarkusTestProfile {
        static final String STATE = "target/recovery-state/dcgm-" + System.currentTimeMillis();

        @Override
        public Map<String, String> getConfigOverrides() {
            RecoveryTestSupport.token();
            return Map.of("gpu-agent.state-dir", STATE, "gpu-agent.recovery.mode", "enforce",
                    "gpu-agent.recovery.drain-on-deadline", "terminate", "gpu-agent.recovery.drain-deadline", "2s",
                    "gpu-agent.dcgm.mode", "embedded", "gpu-agent.dcgm.library", FakeNvml.DCGM_LIBRARY.toString(),
                    "gpu-agent.dcgm.verify-diag-level", "1", "gpu-agent.dcgm.reconnect-max-delay", "1s");
        }
    }

    @Inject
    SamplerService sampler;

    @AfterEach
    void restore() {
        RecoveryTestSupport.restoreAll();
    }

    @Test
    void xid79ResetsWithDcgmLetGoOfAndTheR1DiagnosticPasses() {
        RecoveryTestSupport.awaitEventWatch();
        FakeNvml.eventually(SOON, () -> assertTrue(sampler.dcgm().orElseThrow().up(), "DCGM connected"));
        java.util.Set<String> downReasons = java.util.concurrent.ConcurrentHashMap.newKeySet();
        sampler.onSnapshot(snap -> sampler.dcgm().map(d -> d.downReason()).ifPresent(downReasons::add));
        long after = lastLineId();
        RecoveryTestSupport.loseGpu(1);
        FakeNvml.eventually(SOON, () -> assertTrue(steps(lines(1, after), "succeeded").contains("uncordon"),
                lines(1, after).toString()));
        List<Map<String, Object>> audit = lines(1, after);
        Map<String, Object> verify = audit.stream().filter(l -> "verify".equals(l.get("step"))
                && "succeeded".equals(l.get("result"))).findFirst().orElseThrow();
        assertTrue(verify.get("detail").toString().contains("DCGM diagnostic r1 passed"), verify.toString());
        FakeNvml.eventually(SOON, () -> assertTrue(sampler.dcgm().orElseThrow().up(), "DCGM connected again"));
        assertTrue(downReasons.stream().anyMatch(r -> r.startsWith("DCGM released: NVML released while GPU 1")),
                "DCGM was let go of for the reset: " + downReasons);
        given().get("/health/gpus/1").then().statusCode(200).body("state", equalTo("HEALTHY"));
    }

    @Test
    void aFailingDiagnosticAfterTheResetFailsTheVerifyNamingTheTest() {
        RecoveryTestSupport.awaitEventWatch();
        FakeNvml.eventually(SOON, () -> assertTrue(sampler.dcgm().orElseThrow().up(), "DCGM connected"));
        long after = lastLineId();
        FakeNvml.write("gpus = 8\nevent." + FakeNvml.nextEventNumber() + " = 2 xid 79\ngpu.2.lost = 1\n"
                + "dcgm.diag.software.gpu.2 = fail 4 injected double-bit error\n");
        FakeNvml.eventually(SOON, () -> assertTrue(steps(lines(2, after), "failed").contains("verify"),
                lines(2, after).toString()));
        List<Map<String, Object>> audit = lines(2, after);
        Map<String, Object> verify = audit.stream().filter(l -> "verify".equals(l.get("step"))
                && "failed".equals(l.get("result"))).findFirst().orElseThrow();
        String detail = verify.get("detail").toString();
        assertTrue(detail.contains("DCGM diagnostic r1 failed") && detail.contains("software")
                && detail.contains("DCGM_FR_VOLATILE_DBE_DETECTED"), detail);
        assertEquals(List.of(), steps(audit, "succeeded").stream().filter("uncordon"::equals).toList(),
                "the GPU stays cordoned");
        given().get("/v1/recovery").then().body("cordoned.uuid", hasItem(audit.getFirst().get("uuid")));
    }

    @Test
    void anOperatorDiagnosticRunsOnlyOnADrainedGpuAndReportsTheFailingTest() {
        FakeNvml.eventually(SOON, () -> assertTrue(sampler.dcgm().orElseThrow().up(), "DCGM connected"));
        RecoveryTestSupport.authed().post("/v1/gpus/4/diag").then().statusCode(409)
                .body("detail", org.hamcrest.Matchers.containsString("not drained"));

        RecoveryTestSupport.authed().post("/v1/gpus/4/cordon").then().statusCode(200);
        String passed = RecoveryTestSupport.authed().post("/v1/gpus/4/diag").then().statusCode(202).extract()
                .path("actionId");
        assertEquals("succeeded", RecoveryTestSupport.awaitEnd(passed));
        assertTrue(RecoveryTestSupport.action(passed).toString().contains("DCGM diagnostic r1 passed"),
                RecoveryTestSupport.action(passed).toString());

        FakeNvml.write("gpus = 8\ndcgm.diag.software.gpu.4 = fail 4 injected\n");
        String failed = RecoveryTestSupport.authed().post("/v1/gpus/4/diag").then().statusCode(202).extract()
                .path("actionId");
        assertEquals("failed", RecoveryTestSupport.awaitEnd(failed));
        String view = RecoveryTestSupport.action(failed).toString();
        assertTrue(view.contains("failed on the operator's request: tests [software (DCGM_FR_VOLATILE_DBE_DETECTED"),
                view);
    }

    @Test
    void aDcgmHealthIncidentIsAReasonOfHealth() {
        FakeNvml.write("gpus = 8\ndcgm.gpu.3.health.0 = pcie warn 3 PCIe replay rate above threshold\n");
        FakeNvml.eventually(SOON, () -> given().get("/health/gpus/3").then().body("state", equalTo("DEGRADED"))
                .body("reasons.code", hasItem("DCGM_FR_PCI_REPLAY_RATE"))
                .body("reasons.detector", hasItem("dcgm")));
    }
}
