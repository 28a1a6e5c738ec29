package io.gpuagent.agent.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
}
