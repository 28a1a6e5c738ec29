package io.gpuagent.agent.recovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.agent.journal.EventLog;
import io.gpuagent.agent.journal.JsonlJournal;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The power limit to restore after a restart comes from the audit line's typed {@code powerCap} field; lines an
 * older agent wrote have only the detail text, and still restore.
 */
class PowerCapTest {

    @TempDir
    Path dir;

    @Test
    void aCapIsReadBackFromItsTypedFieldNotFromTheDetail() throws Exception {
        ObjectMapper mapper = new ObjectMapper();
        try (EventLog events = new EventLog(dir, 100, mapper)) {
            ActionAudit audit = audit(events, mapper);
            audit.append(new ActionRecord(0, null, "a1", ActionKind.RECOVER, Step.POWER_CAP, 3, "GPU-3",
                    Trigger.policy("THERMAL"), "hot", Result.SUCCEEDED, 5L, "worded any way at all",
                    new PowerCap(700_000, 560_000)));
            audit.close(null);
        }
        String line = Files.readAllLines(dir.resolve(ActionAudit.FILE_NAME)).getFirst();
        assertTrue(line.contains("\"action\":\"recover\",\"step\":\"power_cap\"") && line.contains("\"trigger\":\"policy:THERMAL\"")
                && line.contains("\"powerCap\":{\"beforeMw\":700000,\"cappedMw\":560000}"), line);
        try (EventLog events = new EventLog(dir, 100, mapper)) {
            ActionRecord replayed = audit(events, mapper).replayed().getFirst();
            assertEquals(Step.POWER_CAP, replayed.step());
            assertEquals(new Trigger.Policy("THERMAL"), replayed.trigger());
            assertEquals(Optional.of(new PowerCap(700_000, 560_000)), PowerCap.of(replayed));
        }
    }

    @Test
    void aLineFromAnOlderAgentWithoutTheFieldStillRestores() throws Exception {
        // As an agent before the typed field wrote it (no crc, no powerCap): the limit is only in the detail.
        Files.writeString(dir.resolve(ActionAudit.FILE_NAME), "{\"id\":7,\"time\":1767225600.000000000,\"actionId\":\"a1\","
                + "\"action\":\"recover\",\"step\":\"power_cap\",\"gpu\":3,\"uuid\":\"GPU-3\",\"trigger\":\"policy:THERMAL\","
                + "\"reason\":\"hot\",\"result\":\"succeeded\",\"durationMs\":5,\"detail\":\"power limit 700000 mW -> "
                + "560000 mW (80% of the default 700000 mW); restored when the GPU is HEALTHY again\"}\n");
        ObjectMapper mapper = new ObjectMapper();
        try (EventLog events = new EventLog(dir, 100, mapper)) {
            List<ActionRecord> replayed = audit(events, mapper).replayed();
            assertEquals(1, replayed.size(), "the rails keep the power cap line");
            ActionRecord r = replayed.getFirst();
            assertNull(r.powerCap());
            assertEquals(ActionKind.RECOVER, r.action());
            assertEquals(Optional.of(new PowerCap(700_000, 560_000)), PowerCap.of(r));
        }
    }

    @Test
    void aLineThatCappedNothingRestoresNothing() {
        ActionRecord already = new ActionRecord(0, null, "a1", ActionKind.RECOVER, Step.POWER_CAP, 3, "GPU-3",
                Trigger.policy("THERMAL"), "hot", Result.SUCCEEDED, 5L,
                "the power limit 500000 mW is already at or below 560000 mW (80% of the default 700000 mW)");
        assertEquals(Optional.empty(), PowerCap.of(already));
    }

    @Test
    void triggersReadBackAsTheyAreWritten() {
        assertEquals(new Trigger.Policy("XID_79"), Trigger.parse("policy:XID_79"));
        assertEquals("operator:10.0.0.7", Trigger.parse("operator:10.0.0.7").text());
        assertEquals("operator:unknown", Trigger.operator(" ").text());
    }

    private ActionAudit audit(EventLog events, ObjectMapper mapper) {
        return new ActionAudit(dir, mapper, events, new SimpleMeterRegistry(), 20, Duration.ofHours(1),
                JsonlJournal.OnCorruption.REFUSE);
    }
}
