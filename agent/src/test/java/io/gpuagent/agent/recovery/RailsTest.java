package io.gpuagent.agent.recovery;

import static io.gpuagent.agent.recovery.Step.CORDON;
import static io.gpuagent.agent.recovery.Step.DRAIN;
import static io.gpuagent.agent.recovery.Step.INSPECT_HARDWARE;
import static io.gpuagent.agent.recovery.Step.REQUEST_REBOOT;
import static io.gpuagent.agent.recovery.Step.RESET;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.agent.journal.EventLog;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The rails on their own: escalation (rebuilt from the audit log), the reset rate limit, the node breaker. */
class RailsTest {

    private static final Instant T = Instant.parse("2025-01-01T00:00:00Z");
    private static final List<Step> PLAN = List.of(CORDON, DRAIN, RESET);

    @TempDir
    Path dir;

    @Test
    void twoResetsOfTheSameFaultEscalateToARebootAndTwoRebootsToInspection() {
        Escalation e = new Escalation(2, 2);
        assertEquals(PLAN, e.adjust("GPU-1", "XID_48", PLAN).steps());
        e.record(line("GPU-1", "policy:XID_48", RESET, Result.SUCCEEDED));
        e.record(line("GPU-1", "policy:XID_48", RESET, Result.STARTED));          // not a finished reset
        e.record(line("GPU-1", "operator:10.0.0.1", RESET, Result.SUCCEEDED));    // operators do not count
        e.record(line("GPU-1", "policy:XID_95", RESET, Result.FAILED));           // another fault
        e.record(line("GPU-2", "policy:XID_48", RESET, Result.FAILED));           // another GPU
        assertEquals(PLAN, e.adjust("GPU-1", "XID_48", PLAN).steps());

        e.record(line("GPU-1", "policy:XID_48", RESET, Result.FAILED));
        Escalation.Adjusted reboot = e.adjust("GPU-1", "XID_48", PLAN);
        assertEquals(List.of(CORDON, DRAIN, REQUEST_REBOOT), reboot.steps());
        assertTrue(reboot.why().contains("2 reset(s)"), reboot.why());
        assertEquals(PLAN, e.adjust("GPU-1", "XID_95", PLAN).steps());

        e.record(line("GPU-1", "policy:XID_48", REQUEST_REBOOT, Result.SUCCEEDED));
        e.record(line("GPU-1", "policy:XID_48", REQUEST_REBOOT, Result.SUCCEEDED));
        assertEquals(List.of(CORDON, INSPECT_HARDWARE), e.adjust("GPU-1", "XID_48", PLAN).steps());
    }

    @Test
    void escalationCountsSurviveARestartThroughTheAuditLog() throws Exception {
        ObjectMapper mapper = new ObjectMapper();
        try (EventLog events = new EventLog(dir, 100, mapper)) {
            ActionAudit audit = new ActionAudit(dir, mapper, events, new SimpleMeterRegistry());
            audit.append(line("GPU-1", "policy:XID_48", RESET, Result.SUCCEEDED));
            audit.append(line("GPU-1", "policy:XID_48", RESET, Result.TIMED_OUT));
            audit.close(null);
        }
        try (EventLog events = new EventLog(dir, 100, mapper)) {
            ActionAudit again = new ActionAudit(dir, mapper, events, new SimpleMeterRegistry());
            assertEquals(2, again.replayed().size());
            assertEquals(List.of(1L, 2L), again.replayed().stream().map(ActionRecord::id).toList());
            Escalation e = new Escalation(2, 2);
            again.replayed().forEach(e::record);
            assertEquals(List.of(CORDON, DRAIN, REQUEST_REBOOT), e.adjust("GPU-1", "XID_48", PLAN).steps());
            ActionRecord next = again.append(line("GPU-1", "policy:XID_48", CORDON, Result.SUCCEEDED));
            assertEquals(3, next.id(), "line numbers continue after a restart");
            assertEquals(3, events.latest(null, "GPU-1", 10).size(), "each line is also an ACTION event");
            again.close(null);
        }
    }

    @Test
    void resetsAreLimitedPerGpuWithinASlidingWindow() {
        ResetRateLimit limit = new ResetRateLimit(1, Duration.ofHours(1));
        assertTrue(limit.blockedUntil("GPU-1", T).isEmpty());
        limit.record("GPU-1", T);
        assertEquals(T.plus(Duration.ofHours(1)), limit.blockedUntil("GPU-1", T.plusSeconds(60)).orElseThrow());
        assertTrue(limit.blockedUntil("GPU-2", T.plusSeconds(60)).isEmpty(), "per GPU");
        assertTrue(limit.blockedUntil("GPU-1", T.plus(Duration.ofHours(1))).isEmpty(), "the window slides");

        ResetRateLimit two = new ResetRateLimit(2, Duration.ofMinutes(10));
        two.record("GPU-1", T);
        assertTrue(two.blockedUntil("GPU-1", T.plusSeconds(1)).isEmpty());
        two.record("GPU-1", T.plusSeconds(1));
        assertTrue(two.blockedUntil("GPU-1", T.plusSeconds(2)).isPresent());
    }

    @Test
    void aResetRefusedForLackOfPrivilegeGivesItsPlaceBack() {
        ResetRateLimit limit = new ResetRateLimit(1, Duration.ofHours(1));
        limit.record("GPU-1", "a-1", T);
        assertTrue(limit.blockedUntil("GPU-1", T.plusSeconds(1)).isPresent());
        limit.forget("GPU-1", "a-other");
        assertTrue(limit.blockedUntil("GPU-1", T.plusSeconds(1)).isPresent(), "another action's refusal changes nothing");
        limit.forget("GPU-1", "a-1");
        assertTrue(limit.blockedUntil("GPU-1", T.plusSeconds(1)).isEmpty(), "the refused reset does not count");
    }

    @Test
    void theBreakerOpensWhenMoreThanHalfTheGpusFailWithinTheWindow() {
        NodeBreaker b = new NodeBreaker(Duration.ofMinutes(5));
        for (int i = 0; i < 4; i++) {
            b.onFatal("GPU-" + i, T.plusSeconds(i), 8);
        }
        assertFalse(b.isOpen(), "half is not more than half");
        b.onFatal("GPU-1", T.plusSeconds(10), 8);   // the same GPU again
        assertFalse(b.isOpen());
        b.onFatal("GPU-4", T.plusSeconds(20), 8);
        assertTrue(b.isOpen());
        assertTrue(b.openReason().startsWith("5 of 8 GPUs"), b.openReason());
        assertEquals(b.openReason(), b.takeNewlyOpened());
        assertNull(b.takeNewlyOpened(), "announced once");
        assertTrue(b.reset());
        assertFalse(b.isOpen());
        b.onFatal("GPU-5", T.plusSeconds(30), 8);
        assertFalse(b.isOpen(), "a reset forgets the earlier faults");

        NodeBreaker slow = new NodeBreaker(Duration.ofMinutes(5));
        for (int i = 0; i < 5; i++) {
            slow.onFatal("GPU-" + i, T.plus(Duration.ofMinutes(2L * i)), 8);
        }
        assertFalse(slow.isOpen(), "faults spread over more than the window are hardware, one by one");
    }

    private static ActionRecord line(String uuid, String trigger, Step step, Result result) {
        return new ActionRecord(0, null, "a1", ActionKind.RECOVER, step, 1, uuid, Trigger.parse(trigger), "test", result,
                5L, null);
    }
}
