package io.gpuagent.agent.journal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.nvml.fake.FakeNvml;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 11 finding 7: a journal whose fsync failed used to refuse every record until a restart while nothing
 * said so. Now the failure shows (JournalWatch.failures() feeds /health, and gpu_agent_journal_up), and the
 * journal is reopened, rewritten to what was acknowledged, once the disk takes writes again.
 */
class JournalWatchTest {

    @TempDir
    Path dir;

    @Test
    void aFailedFsyncShowsAndTheJournalIsReopenedWhenTheDiskHeals() throws Exception {
        AtomicBoolean broken = new AtomicBoolean();
        JsonlJournal.Disk disk = fd -> {
            if (broken.get()) {
                throw new IOException("Input/output error (injected)");
            }
            fd.sync();
        };
        MeterRegistry registry = new SimpleMeterRegistry();
        JournalWatch watch = new JournalWatch(registry, Duration.ofMillis(50), Duration.ofMillis(200));
        List<Long> acknowledged = new ArrayList<>();
        try (EventLog log = new EventLog(dir, 100, 400, new ObjectMapper(), disk, JsonlJournal.OnCorruption.REFUSE)) {
            watch.register("events", log);
            acknowledged.add(log.append(event("before")).id());
            assertEquals(1.0, up(registry));

            broken.set(true);
            assertThrows(UncheckedIOException.class, () -> log.append(event("lost")));
            assertTrue(watch.failures().get("events").contains("injected"), watch.failures().toString());
            assertEquals(0.0, up(registry));
            Thread.sleep(300);   // retries fail meanwhile: still down, still refusing
            assertThrows(UncheckedIOException.class, () -> log.append(event("refused")));
            assertEquals(0.0, up(registry));

            broken.set(false);
            FakeNvml.eventually(Duration.ofSeconds(5), () -> assertTrue(watch.failures().isEmpty()));
            assertEquals(1.0, up(registry));
            acknowledged.add(log.append(event("after")).id());
        } finally {
            watch.stop(null);
        }
        List<AgentEvent> onDisk = new ArrayList<>();
        JsonlJournal.open(dir.resolve(EventLog.FILE_NAME), AgentEvent.class, new ObjectMapper(), onDisk::add).close();
        assertEquals(acknowledged, onDisk.stream().map(AgentEvent::id).toList(), "only acknowledged events: " + onDisk);
    }

    private static double up(MeterRegistry registry) {
        return registry.get(JournalWatch.JOURNAL_UP).tag("journal", "events").gauge().value();
    }

    private static AgentEvent event(String message) {
        return AgentEvent.of(null, null, "test", "journal-watch-test", "TEST", message);
    }
}
