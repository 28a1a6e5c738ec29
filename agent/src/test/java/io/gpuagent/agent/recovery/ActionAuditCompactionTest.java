package io.gpuagent.agent.recovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.agent.journal.EventLog;
import io.gpuagent.agent.journal.JsonlJournal;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 11 finding 4: refused requests and observe-mode recommendations no longer grow {@code actions.jsonl}
 * (and what replay holds) without bound, and compaction keeps every line the rails are rebuilt from.
 */
class ActionAuditCompactionTest {

    static final int MEMORY = 20;
    static final int REFUSED = 15 * MEMORY;

    @TempDir
    Path dir;

    @Test
    void refusedRequestsAreCompactedAwayButTheRailsSurvive() throws Exception {
        ObjectMapper mapper = new ObjectMapper();
        List<ActionRecord> rails;
        try (EventLog events = new EventLog(dir, 100, mapper)) {
            ActionAudit audit = audit(events);
            ActionRecord cordon = audit.append(line("GPU-1", "operator:test", Step.CORDON, Result.SUCCEEDED, null));
            audit.append(line("GPU-2", "operator:test", Step.CORDON, Result.SUCCEEDED, null));
            audit.append(line("GPU-2", "operator:test", Step.UNCORDON, Result.SUCCEEDED, null));   // GPU-2: nothing left
            ActionRecord cap = audit.append(line("GPU-3", "policy:THERMAL", Step.POWER_CAP, Result.SUCCEEDED,
                    "power limit 700000 mW -> 500000 mW"));
            ActionRecord escalated = audit.append(line("GPU-4", "policy:XID_48", Step.RESET, Result.FAILED, null));
            ActionRecord started = audit.append(line("GPU-4", "policy:XID_48", Step.RESET, Result.STARTED, null));
            for (int i = 0; i < REFUSED; i++) {
                audit.append(line("GPU-5", "operator:test", Step.REQUEST, Result.REJECTED, "rate limited"));
            }
            rails = List.of(cordon, cap, escalated, started);
            audit.close(null);
        }
        long fileLines = Files.readAllLines(dir.resolve(ActionAudit.FILE_NAME)).size();
        assertTrue(fileLines <= 2L * MEMORY + rails.size(), "the file is bounded: " + fileLines + " lines");

        try (EventLog events = new EventLog(dir, 100, mapper)) {
            ActionAudit again = audit(events);
            assertEquals(rails.stream().map(ActionRecord::id).toList(),
                    again.replayed().stream().map(ActionRecord::id).toList(), "what the rails need, and only that");
            List<ActionRecord> newest = again.latest(r -> true, 10 * MEMORY);
            assertEquals(MEMORY, newest.size(), "memory holds the newest lines for /v1/actions");
            assertEquals(rails.getLast().id() + REFUSED, newest.getLast().id());
            ActionRecord next = again.append(line("GPU-1", "operator:test", Step.UNCORDON, Result.SUCCEEDED, null));
            assertEquals(newest.getLast().id() + 1, next.id(), "line numbers continue after compaction");
            again.close(null);
        }
    }

    /** Issue 11 finding 10: a damaged cordon line in the middle stops the start instead of uncordoning silently. */
    @Test
    void aDamagedLineInTheMiddleStopsTheStart() throws Exception {
        ObjectMapper mapper = new ObjectMapper();
        try (EventLog events = new EventLog(dir, 100, mapper)) {
            ActionAudit audit = audit(events);
            audit.append(line("GPU-1", "operator:test", Step.REQUEST, Result.STARTED, null));
            audit.append(line("GPU-1", "operator:test", Step.CORDON, Result.SUCCEEDED, null));
            audit.append(line("GPU-1", "operator:test", Step.REQUEST, Result.SUCCEEDED, null));
            audit.close(null);
        }
        Path file = dir.resolve(ActionAudit.FILE_NAME);
        List<String> lines = Files.readAllLines(file);
        lines.set(1, lines.get(1).replace("GPU-1", "GPU-7"));
        Files.write(file, lines);
        try (EventLog events = new EventLog(dir, 100, mapper)) {
            UncheckedIOException refused = assertThrows(UncheckedIOException.class, () -> audit(events));
            assertTrue(refused.getMessage().contains(file.toAbsolutePath() + ": line 2 is damaged"), refused.getMessage());
            assertTrue(refused.getMessage().contains("gpu-agent.journal.on-corruption"), refused.getMessage());
        }
    }

    private ActionAudit audit(EventLog events) {
        return new ActionAudit(dir, new ObjectMapper(), events, new SimpleMeterRegistry(), MEMORY, Duration.ofHours(1),
                JsonlJournal.OnCorruption.REFUSE);
    }

    private static ActionRecord line(String uuid, String trigger, Step step, Result result, String detail) {
        return new ActionRecord(0, null, "a1", ActionKind.RECOVER, step, 1, uuid, Trigger.parse(trigger), "test", result,
                5L, detail);
    }
}
