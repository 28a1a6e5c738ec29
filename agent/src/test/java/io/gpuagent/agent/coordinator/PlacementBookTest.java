package io.gpuagent.agent.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.agent.journal.JournalDamaged;
import io.gpuagent.agent.journal.JsonlJournal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Placements survive a coordinator restart: what was live when it stopped is live again, nothing else. */
class PlacementBookTest {

    @TempDir
    Path dir;

    static Placement placement(String id, String job, String... nodes) {
        List<Placement.Allocation> allocs = java.util.Arrays.stream(nodes).map(n -> new Placement.Allocation(n,
                "http://" + n + ":9400", "lease-" + id + "-" + n, List.of("GPU-" + n + "-0"),
                Map.of("CUDA_VISIBLE_DEVICES", "0"), 7)).toList();
        return new Placement(id, job, allocs, Instant.parse("2026-01-01T01:00:00Z"));
    }

    @Test
    void aReopenedBookHasExactlyTheLivePlacementsWithTheirRemainingLeases() throws Exception {
        ObjectMapper mapper = new ObjectMapper();
        Placement a = placement("p-a", "job-a", "n1");
        Placement b = placement("p-b", "job-b", "n1", "n2");
        Placement c = placement("p-c", "job-c", "n3");
        try (PlacementBook book = new PlacementBook(dir, mapper)) {
            book.add(a);
            book.add(b);
            book.add(c);
            assertTrue(book.end("p-a", "released"));
            assertFalse(book.end("p-a", "released"), "ending twice is a no-op");
            book.update(b.withAllocations(List.of(b.allocations().get(1))));   // n1's lease released, n2's not
        }
        try (PlacementBook again = new PlacementBook(dir, mapper)) {
            assertEquals(List.of("p-b", "p-c"), again.all().stream().map(Placement::placementId).toList());
            assertEquals(List.of(b.allocations().get(1)), again.get("p-b").orElseThrow().allocations());
            assertEquals(c, again.get("p-c").orElseThrow());
            assertEquals("p-c", again.ofJob("job-c").orElseThrow().placementId());
            assertTrue(again.ofJob("job-a").isEmpty());
        }
    }

    @Test
    void theJournalIsCompactedToTheLivePlacements() throws Exception {
        ObjectMapper mapper = new ObjectMapper();
        Path file = dir.resolve(PlacementBook.FILE_NAME);
        try (PlacementBook book = new PlacementBook(dir, mapper)) {
            book.add(placement("keep", "job-keep", "n1"));
            for (int i = 0; i < 300; i++) {
                book.add(placement("p" + i, "job-" + i, "n2"));
                book.end("p" + i, "released");
            }
            long lines = Files.readAllLines(file).size();
            assertTrue(lines < 300, "compacted: " + lines + " lines for 1 live placement after 601 changes");
        }
        try (PlacementBook again = new PlacementBook(dir, mapper)) {
            assertEquals(List.of("keep"), again.all().stream().map(Placement::placementId).toList());
        }
    }

    /** Issue 11 finding 10 for the coordinator: gpu-agent.journal.on-corruption applies to placements.jsonl too. */
    @Test
    void aDamagedLineInTheMiddleRefusesTheBookUnlessToldToSkipIt() throws Exception {
        ObjectMapper mapper = new ObjectMapper();
        try (PlacementBook book = new PlacementBook(dir, mapper)) {
            book.add(placement("p-a", "job-a", "n1"));
            book.add(placement("p-b", "job-b", "n2"));
            book.add(placement("p-c", "job-c", "n3"));
        }
        Path file = dir.resolve(PlacementBook.FILE_NAME);
        List<String> lines = Files.readAllLines(file);
        lines.set(1, lines.get(1).replace("job-b", "job-x"));   // the CRC no longer matches
        Files.write(file, lines);

        JournalDamaged refused = assertThrows(JournalDamaged.class,
                () -> new PlacementBook(dir, mapper, JsonlJournal.OnCorruption.REFUSE, Clock.systemUTC()));
        assertTrue(refused.getMessage().contains(file.toAbsolutePath() + ": line 2 is damaged"), refused.getMessage());
        assertTrue(refused.getMessage().contains("gpu-agent.journal.on-corruption=skip"), refused.getMessage());
        assertEquals(lines, Files.readAllLines(file), "a refused file is left as it is");

        List<String> warnings = new CopyOnWriteArrayList<>();
        Handler handler = new Handler() {
            @Override
            public void publish(LogRecord r) {
                if (r.getLevel().intValue() >= Level.WARNING.intValue()) {
                    warnings.add(String.valueOf(r.getMessage()));
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger log = Logger.getLogger(JsonlJournal.class.getName());
        log.addHandler(handler);
        try (PlacementBook book = new PlacementBook(dir, mapper, JsonlJournal.OnCorruption.SKIP, Clock.systemUTC())) {
            assertEquals(List.of("p-a", "p-c"), book.all().stream().map(Placement::placementId).toList());
        } finally {
            log.removeHandler(handler);
        }
        assertTrue(warnings.stream().anyMatch(w -> w.contains(file.toAbsolutePath() + ": line 2 is damaged and was skipped")),
                warnings.toString());
    }
}
