package io.gpuagent.agent.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.agent.journal.JsonlJournal;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * usage.jsonl: the last line of a lease wins, ended leases come back as summaries with their detail found in the
 * file, and compaction keeps live leases and the ended ones within the retention, up to the bound.
 */
class UsageJournalTest {

    private static final Instant NOW = Instant.parse("2026-06-01T00:00:00Z");

    @TempDir
    Path dir;

    private static LeaseUsage usage(String id, Instant endedAt, long mj) {
        GpuUsage g = new GpuUsage("GPU-0", "GPU-0", 0, "H100", null, 1.0, mj, false, 0, mj, NOW, 100.0, 0, 0, 0, 0,
                10L, 0.0, 0, List.of(), List.of(), List.of(new GpuUsage.Segment(NOW.minusSeconds(100), BigDecimal.ONE,
                BigDecimal.TEN, mj)));
        return new LeaseUsage(id, "job-" + id, "node", NOW.minusSeconds(100), endedAt, NOW, "EUR", List.of(g), List.of());
    }

    private UsageJournal open() throws Exception {
        return UsageJournal.open(dir, new ObjectMapper(), JsonlJournal.OnCorruption.REFUSE);
    }

    @Test
    void replayKeepsTheLastLineOfEachLeaseAndEndedOnesAsSummaries() throws Exception {
        try (UsageJournal j = open()) {
            j.appendAll(List.of(usage("a", null, 1), usage("b", null, 2), usage("a", null, 3)));
            j.appendAll(List.of(usage("a", NOW, 4000)));
        }
        try (UsageJournal j = open()) {
            assertEquals(Set.of("b"), j.restored().checkpoints().keySet());
            assertEquals(List.of("a"), List.copyOf(j.restored().ended().keySet()));
            UsageReport a = j.restored().ended().get("a");
            assertEquals(null, a.gpus(), "a summary: no per-device detail in memory");
            assertEquals(0, new BigDecimal("4").compareTo(a.energyJoules()));
            LeaseUsage whole = j.find("a").orElseThrow();
            assertEquals(NOW, whole.endedAt());
            assertEquals(4000, whole.gpus().getFirst().gpuEnergyMj());
            assertTrue(j.find("c").isEmpty());
        }
    }

    @Test
    void compactionKeepsLiveLeasesAndEndedOnesWithinRetentionUpToTheBound() throws Exception {
        List<LeaseUsage> records = new ArrayList<>();
        records.add(usage("old", NOW.minusSeconds(91L * 86400), 1));   // past a 90-day retention
        for (int i = 0; i < 5; i++) {
            records.add(usage("ended-" + i, null, i));                         // a checkpoint first
            records.add(usage("ended-" + i, NOW.minusSeconds(86400L * (5 - i)), 10 + i));
        }
        records.add(usage("live", null, 98));
        try (UsageJournal j = open()) {
            j.appendAll(records);
        }
        try (UsageJournal j = open()) {
            LinkedHashMap<String, UsageReport> ended = j.restored().ended();
            List<String> keep = UsageJournal.keep(ended, NOW.minusSeconds(90L * 86400), 3);
            assertEquals(List.of("ended-2", "ended-3", "ended-4"), keep);
            j.compact(Set.copyOf(keep), List.of(usage("live", null, 99)));
            assertEquals(4, j.lineCount());
        }
        assertEquals(4, Files.readAllLines(dir.resolve(UsageJournal.FILE_NAME)).size());
        try (UsageJournal j = open()) {
            assertEquals(List.of("ended-2", "ended-3", "ended-4"), List.copyOf(j.restored().ended().keySet()));
            assertEquals(99, j.restored().checkpoints().get("live").gpus().getFirst().gpuEnergyMj());
            assertEquals(13, j.find("ended-3").orElseThrow().gpus().getFirst().gpuEnergyMj(), "the ended line, not its checkpoint");
        }
    }

    /** An ended lease with a MIG device, an integrated GPU and a gap: every part of the summary in play. */
    private static LeaseUsage mixed(String id) {
        Instant granted = NOW.minusSeconds(7200);
        GpuUsage whole = new GpuUsage("GPU-1", "GPU-1", 1, "H100", null, 1.0, 5_000_000, true, 1, null, NOW, 300.0,
                1.5, 3, 0.5, 3, 100L, 12.0, 1, List.of(79), List.of("x"), List.of(
                new GpuUsage.Segment(granted, new BigDecimal("0.30"), new BigDecimal("2.10"), 2_000_000),
                new GpuUsage.Segment(granted.plusSeconds(3600), new BigDecimal("0.35"), new BigDecimal("2.20"),
                        3_000_000)));
        GpuUsage mig = new GpuUsage("MIG-2", "GPU-2", 2, "H100", "3g.40gb", 3.0 / 7, 7_000_000, false, 0, 9L, NOW,
                null, 0, 0, 0, 0, null, null, 0, List.of(), List.of(), List.of(
                new GpuUsage.Segment(granted, new BigDecimal("0.30"), new BigDecimal("2.10"), 7_000_000)));
        return new LeaseUsage(id, "job-" + id, "node", granted, NOW, NOW, "EUR", List.of(whole, mig),
                List.of(new LeaseUsage.Gap(granted.plusSeconds(60), granted.plusSeconds(120), "down")));
    }

    @Test
    void anEndedLeasesSummaryReadFromItsTotalsIsTheOneItsDetailGives() throws Exception {
        LeaseUsage a = mixed("a");
        try (UsageJournal j = open()) {
            j.appendAll(List.of(usage("a", null, 1), a));
        }
        String line = Files.readAllLines(dir.resolve(UsageJournal.FILE_NAME)).get(1);
        assertTrue(line.contains("\"totals\":{"), "an ended lease's line carries its totals: " + line);
        try (UsageJournal j = open()) {
            assertEquals(UsageReport.of(a, a.endedAt()).summary(), j.restored().ended().get("a"));
            assertTrue(j.restored().checkpoints().isEmpty());
            assertEquals(a.gpus(), j.find("a").orElseThrow().gpus());
        }
    }

    @Test
    void linesOfEarlierVersionsWithoutTotalsLoadAsBefore() throws Exception {
        // As versions before the totals wrote them: no "totals", no "crc" (older still), and a checkpoint.
        ObjectMapper m = new ObjectMapper().registerModule(new com.fasterxml.jackson.datatype.jsr310.JavaTimeModule())
                .disable(com.fasterxml.jackson.databind.SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
                .setSerializationInclusion(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL);
        LeaseUsage a = mixed("a");
        Files.writeString(dir.resolve(UsageJournal.FILE_NAME), m.writeValueAsString(usage("b", null, 5)) + "\n"
                + m.writeValueAsString(a) + "\n");
        try (UsageJournal j = open()) {
            assertEquals(UsageReport.of(a, a.endedAt()).summary(), j.restored().ended().get("a"));
            assertEquals(5, j.restored().checkpoints().get("b").gpus().getFirst().gpuEnergyMj());
        }
    }

    @Test
    void aDamagedEndedLineIsRefusedThoughItsDetailIsNotRead() throws Exception {
        try (UsageJournal j = open()) {
            j.appendAll(List.of(mixed("a"), mixed("b")));
        }
        Path file = dir.resolve(UsageJournal.FILE_NAME);
        List<String> lines = Files.readAllLines(file);
        // A flipped digit in the per-device detail: only the CRC can tell.
        Files.writeString(file, lines.get(0).replaceFirst("5000000", "5000001") + "\n" + lines.get(1) + "\n");
        var e = org.junit.jupiter.api.Assertions.assertThrows(io.gpuagent.agent.journal.JournalDamaged.class, this::open);
        assertTrue(e.getMessage().contains("line 1"), e.getMessage());
        try (UsageJournal j = UsageJournal.open(dir, new ObjectMapper(), JsonlJournal.OnCorruption.SKIP)) {
            assertEquals(List.of("b"), List.copyOf(j.restored().ended().keySet()));
        }
    }
}
