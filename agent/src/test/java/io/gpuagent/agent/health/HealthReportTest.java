package io.gpuagent.agent.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.agent.health.detect.HealthState;
import io.gpuagent.exporter.Snapshot;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * /health's one-line reason, which the Slurm health check passes to scontrol as Reason=, is one line whatever a
 * GPU, the driver or an operator put into it, and bounded.
 */
class HealthReportTest {

    private static HealthReport withReason(String reason) {
        return new HealthReport(false, "unhealthy", reason, Instant.EPOCH, new HealthReport.Nvml(true, "lib", "580", 1),
                new HealthReport.Sampling(1, Instant.EPOCH, 0), List.of(), List.of());
    }

    @Test
    void theReasonHasNoControlFormatOrSeparatorCharacter() {
        // C0 newline and ESC, C1 NEL and CSI, U+2028/U+2029, bidi override and isolate, zero width, BOM.
        String reason = withReason("GPU 3 (GPU-1) UNHEALTHY: XID 79\nState=RESUME\u001B[2J\u0085x\u009By\u2028z\u2029"
                + "\u202Egnp.exe\u2066\u2069\u200B\uFEFFend").reason();
        assertEquals("GPU 3 (GPU-1) UNHEALTHY: XID 79 State=RESUME [2J x y z gnp.exe end", reason);
    }

    @Test
    void theReasonIsBoundedAndProblemsAddedLaterAreCleanedToo() {
        String reason = withReason("x".repeat(10_000)).reason();
        assertEquals(HealthReport.REASON_MAX + 3, reason.length());
        HealthReport more = withReason(null).withProblems(List.of(new HealthReport.Problem("journal events", "disk\u2028full")));
        assertEquals("journal events: disk full", more.reason());
        assertNull(withReason(null).reason());
        assertTrue(withReason("ok").reason().equals("ok"));
    }

    @Test
    void aMigDeviceThatDoesNotServeFailsTheNodeAndIsNamedForItsOwnReasonsOnly() {
        Reason xid = Reason.of("xid", "XID_43", HealthState.UNHEALTHY, "XID 43 (GPU stopped processing), classed fatal",
                "drain the GPU and reset it", Instant.EPOCH);
        Reason hot = Reason.of("thermal", "THERMAL_NEAR_SLOWDOWN", HealthState.DEGRADED, "86 C", "check cooling",
                Instant.EPOCH);
        MigHealth own = new MigHealth("MIG-a", "0/2", 0, "GPU-0", 2, 0, "1g.10gb", HealthState.UNHEALTHY, Instant.EPOCH,
                List.of(xid), List.of(hot), List.of());
        MigHealth sibling = new MigHealth("MIG-b", "0/3", 0, "GPU-0", 3, 0, "1g.10gb", HealthState.DEGRADED,
                Instant.EPOCH, List.of(), List.of(hot), List.of());
        GpuHealth gpu = new GpuHealth(0, "GPU-0", "H100", HealthState.DEGRADED, Instant.EPOCH, List.of(hot), List.of(),
                List.of(own, sibling));
        Snapshot snapshot = Samples.snapshot(Samples.healthy(0).build());
        HealthReport report = HealthReport.of(Instant.EPOCH, snapshot, "lib", List.of(), List.of(gpu));
        assertFalse(report.healthy());
        assertEquals("unhealthy", report.status());
        assertEquals("MIG device 0/2 (MIG-a) UNHEALTHY: XID 43 (GPU stopped processing), classed fatal", report.reason(),
                "the sibling is only degraded, by its GPU: not named");

        GpuHealth onlyInherited = new GpuHealth(0, "GPU-0", "H100", HealthState.DEGRADED, Instant.EPOCH, List.of(hot),
                List.of(), List.of(sibling));
        HealthReport fine = HealthReport.of(Instant.EPOCH, snapshot, "lib", List.of(), List.of(onlyInherited));
        assertTrue(fine.healthy());
        assertEquals("degraded", fine.status());
        assertNull(fine.reason());
        assertEquals(HealthState.UNHEALTHY, own.ownState());
        assertEquals(HealthState.HEALTHY, sibling.ownState());
        assertEquals(xid, own.worstReason());
        assertEquals(hot, sibling.worstReason());
    }
}
