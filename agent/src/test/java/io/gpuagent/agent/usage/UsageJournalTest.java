package io.gpuagent.agent.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.agent.journal.JsonlJournal;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** usage.jsonl: the last line of a lease wins, and compaction keeps live leases and ended ones within the retention. */
class UsageJournalTest {

    private static final Instant NOW = Instant.parse("2026-06-01T00:00:00Z");

    @TempDir
    Path dir;

    private static LeaseUsage usage(String id, Instant endedAt, long mj) {
        GpuUsage g = new GpuUsage("GPU-0", "GPU-0", 0, "H100", null, 1.0, mj, false, 0, mj, NOW, 100.0, 0, 0, 0, 0,
                10L, 0.0, 0, List.of(), List.of(), List.of(new GpuUsage.Segment(NOW, BigDecimal.ONE, BigDecimal.TEN, mj)));
        return new LeaseUsage(id, "job-" + id, "node", NOW.minusSeconds(100), endedAt, NOW, "EUR", List.of(g), List.of());
    }

    @Test
    void replayKeepsTheLastLineOfEachLease() throws Exception {
        try (UsageJournal j = UsageJournal.open(dir, new ObjectMapper(), JsonlJournal.OnCorruption.REFUSE)) {
            j.appendAll(List.of(usage("a", null, 1), usage("b", null, 2), usage("a", null, 3)));
            j.appendAll(List.of(usage("a", NOW, 4)));
        }
        try (UsageJournal j = UsageJournal.open(dir, new ObjectMapper(), JsonlJournal.OnCorruption.REFUSE)) {
            assertEquals(List.of("b", "a"), List.copyOf(j.restored().keySet()));
            assertEquals(4, j.restored().get("a").gpus().getFirst().gpuEnergyMj());
            assertEquals(NOW, j.restored().get("a").endedAt());
        }
    }

    @Test
    void compactionKeepsLiveLeasesAndEndedOnesWithinRetentionUpToTheBound() throws Exception {
        List<LeaseUsage> records = new ArrayList<>();
        records.add(usage("old", NOW.minusSeconds(91L * 86400), 1));   // past a 90-day retention
        for (int i = 0; i < 5; i++) {
            records.add(usage("ended-" + i, NOW.minusSeconds(86400L * (5 - i)), 10 + i));
        }
        records.add(usage("live", null, 99));
        try (UsageJournal j = UsageJournal.open(dir, new ObjectMapper(), JsonlJournal.OnCorruption.REFUSE)) {
            j.appendAll(records);
            List<LeaseUsage> keep = UsageJournal.keep(records, NOW.minusSeconds(90L * 86400), 3);
            assertEquals(List.of("ended-2", "ended-3", "ended-4", "live"), keep.stream().map(LeaseUsage::leaseId).toList());
            j.compact(keep);
            assertEquals(4, j.lineCount());
        }
        assertEquals(4, Files.readAllLines(dir.resolve(UsageJournal.FILE_NAME)).size());
        try (UsageJournal j = UsageJournal.open(dir, new ObjectMapper(), JsonlJournal.OnCorruption.REFUSE)) {
            assertEquals(List.of("ended-2", "ended-3", "ended-4", "live"), List.copyOf(j.restored().keySet()));
        }
    }
}
