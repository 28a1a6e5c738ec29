package io.gpuagent.agent.lease;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Replay and compaction of leases.jsonl on a real file. */
class LeaseJournalTest {

    @TempDir
    Path dir;

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final Instant T = Instant.parse("2026-11-23T10:00:00Z");

    private static Lease lease(String id, long token, String... gpus) {
        return new Lease(id, "job-" + id, List.of(gpus), List.of(), Map.of("NVIDIA_VISIBLE_DEVICES", String.join(",", gpus)),
                T, T.plusSeconds(60), 60, token);
    }

    @Test
    void replayAppliesGrantsHeartbeatsReleasesAndExpiries() throws Exception {
        try (LeaseJournal j = LeaseJournal.open(dir, MAPPER)) {
            j.append(new LeaseEntry.Granted(lease("a", 1, "GPU-0", "GPU-1")));
            j.append(new LeaseEntry.Granted(lease("b", 2, "GPU-2")));
            j.append(new LeaseEntry.Heartbeat("a", T.plusSeconds(600), T.plusSeconds(30)));
            j.append(new LeaseEntry.Released("b", "released by its holder", T.plusSeconds(31)));
            j.appendAll(List.of(new LeaseEntry.Granted(lease("c", 3, "GPU-2")), new LeaseEntry.Granted(lease("d", 4, "GPU-3"))));
            j.append(new LeaseEntry.Expired("d", T.plusSeconds(70)));
        }
        try (LeaseJournal j = LeaseJournal.open(dir, MAPPER)) {
            LeaseJournal.Restored r = j.restored();
            assertEquals(List.of("a", "c"), List.copyOf(r.leases().keySet()));
            assertEquals(T.plusSeconds(600), r.leases().get("a").expiresAt());
            assertEquals(4, r.fencingToken(), "the highest token ever granted, released ones included");
        }
    }

    @Test
    void aGrantOnAHeldGpuIsIgnoredAtReplay() throws Exception {
        try (LeaseJournal j = LeaseJournal.open(dir, MAPPER)) {
            j.append(new LeaseEntry.Granted(lease("a", 1, "GPU-0")));
            j.append(new LeaseEntry.Granted(lease("b", 2, "GPU-1", "GPU-0")));
        }
        try (LeaseJournal j = LeaseJournal.open(dir, MAPPER)) {
            assertEquals(List.of("a"), List.copyOf(j.restored().leases().keySet()));
            assertEquals(2, j.restored().fencingToken());
        }
    }

    @Test
    void aGrantAfterTheHoldersExpiryWinsEvenWithoutItsExpireLine() throws Exception {
        Lease later = new Lease("b", "job-b", List.of("GPU-0"), List.of(0), Map.of(), T.plusSeconds(61),
                T.plusSeconds(120), 59, 2);
        try (LeaseJournal j = LeaseJournal.open(dir, MAPPER)) {
            j.append(new LeaseEntry.Granted(lease("a", 1, "GPU-0")));   // expires at T + 60
            j.append(new LeaseEntry.Granted(later));
        }
        try (LeaseJournal j = LeaseJournal.open(dir, MAPPER)) {
            assertEquals(List.of("b"), List.copyOf(j.restored().leases().keySet()));
        }
    }

    @Test
    void compactionKeepsLiveLeasesAndTheFencingFloor() throws Exception {
        try (LeaseJournal j = LeaseJournal.open(dir, MAPPER)) {
            for (int i = 1; i <= 50; i++) {
                j.append(new LeaseEntry.Granted(lease("l" + i, i, "GPU-" + i)));
                j.append(new LeaseEntry.Released("l" + i, "done", T));
            }
            j.append(new LeaseEntry.Granted(lease("keep", 51, "GPU-0")));
            assertEquals(101, j.lineCount());
            j.compact(List.of(lease("keep", 51, "GPU-0")), 51);
            assertEquals(2, j.lineCount());
        }
        List<String> lines = Files.readAllLines(dir.resolve(LeaseJournal.FILE_NAME));
        assertTrue(lines.get(0).contains("FENCING_FLOOR"), lines.toString());
        try (LeaseJournal j = LeaseJournal.open(dir, MAPPER)) {
            assertEquals(List.of("keep"), List.copyOf(j.restored().leases().keySet()));
            assertEquals(51, j.restored().fencingToken());
        }
        // Even with no lease left, the token does not go back.
        try (LeaseJournal j = LeaseJournal.open(dir, MAPPER)) {
            j.compact(List.of(), 51);
        }
        try (LeaseJournal j = LeaseJournal.open(dir, MAPPER)) {
            assertTrue(j.restored().leases().isEmpty());
            assertEquals(51, j.restored().fencingToken());
        }
    }

    @Test
    void aTornLastLineIsDropped() throws Exception {
        try (LeaseJournal j = LeaseJournal.open(dir, MAPPER)) {
            j.append(new LeaseEntry.Granted(lease("a", 1, "GPU-0")));
        }
        Files.writeString(dir.resolve(LeaseJournal.FILE_NAME), "{\"op\":\"GRANT\",\"lease\":{\"leaseId\":\"b\"",
                java.nio.file.StandardOpenOption.APPEND);
        try (LeaseJournal j = LeaseJournal.open(dir, MAPPER)) {
            assertEquals(List.of("a"), List.copyOf(j.restored().leases().keySet()));
        }
    }

    private static Lease migLease(String id, long token, int gpu, int... gis) {
        List<Lease.MigDevice> mig = new java.util.ArrayList<>();
        for (int gi : gis) {
            mig.add(new Lease.MigDevice(MigSnapshots.migUuid(gpu, gi), gpu, "GPU-" + gpu, gpu + "/" + gi, "1g.10gb", gi, 0,
                    9856));
        }
        List<String> uuids = mig.stream().map(Lease.MigDevice::uuid).toList();
        return new Lease(id, "job-" + id, uuids, mig.stream().map(Lease.MigDevice::gpuIndex).toList(),
                Map.of("CUDA_VISIBLE_DEVICES", String.join(",", uuids)), T, T.plusSeconds(60), 60, token, mig);
    }

    @Test
    void migLeasesSurviveARestartAndACompactionWithEveryDetail() throws Exception {
        Lease mig = migLease("m", 1, 0, 1, 2);
        try (LeaseJournal j = LeaseJournal.open(dir, MAPPER)) {
            j.append(new LeaseEntry.Granted(mig));
            j.append(new LeaseEntry.Granted(lease("w", 2, "GPU-1")));
        }
        try (LeaseJournal j = LeaseJournal.open(dir, MAPPER)) {
            assertEquals(mig, j.restored().leases().get("m"));
            assertEquals(List.of(), j.restored().leases().get("w").mig());
            j.compact(j.restored().leases().values(), 2);
        }
        try (LeaseJournal j = LeaseJournal.open(dir, MAPPER)) {
            assertEquals(mig, j.restored().leases().get("m"), "compacted with its MIG devices");
        }
    }

    /** A line written before MIG leases (no "mig") is a lease of whole GPUs, as it always was. */
    @Test
    void aLineFromBeforeMigLeasesStillLoads() throws Exception {
        Files.writeString(dir.resolve(LeaseJournal.FILE_NAME), "{\"op\":\"GRANT\",\"lease\":{\"leaseId\":\"old\","
                + "\"jobId\":\"job-old\",\"gpus\":[\"GPU-3\"],\"indices\":[3],\"env\":{\"CUDA_VISIBLE_DEVICES\":\"3\","
                + "\"NVIDIA_VISIBLE_DEVICES\":\"GPU-3\",\"CUDA_DEVICE_ORDER\":\"PCI_BUS_ID\"},"
                + "\"grantedAt\":\"2026-11-23T10:00:00Z\",\"expiresAt\":\"2026-11-23T11:00:00Z\",\"ttlSeconds\":3600,"
                + "\"fencingToken\":7}}\n");
        try (LeaseJournal j = LeaseJournal.open(dir, MAPPER)) {
            Lease old = j.restored().leases().get("old");
            assertEquals(List.of("GPU-3"), old.gpus());
            assertEquals(List.of(), old.mig());
            assertTrue(old.holds("GPU-3"));
            assertEquals(7, j.restored().fencingToken());
            j.append(new LeaseEntry.Granted(migLease("m", 8, 0, 1)));   // the new kind after the old line
        }
        try (LeaseJournal j = LeaseJournal.open(dir, MAPPER)) {
            assertEquals(List.of("old", "m"), List.copyOf(j.restored().leases().keySet()));
        }
    }

    /** A grant of a GPU whole while its MIG devices are leased (or the other way round) is never kept. */
    @Test
    void aGrantOverlappingAMigLeaseThroughItsGpuIsIgnored() throws Exception {
        try (LeaseJournal j = LeaseJournal.open(dir, MAPPER)) {
            j.append(new LeaseEntry.Granted(migLease("m", 1, 0, 1)));
            j.append(new LeaseEntry.Granted(lease("whole", 2, "GPU-0")));
            j.append(new LeaseEntry.Granted(lease("other", 3, "GPU-1")));
            j.append(new LeaseEntry.Granted(migLease("m1", 4, 1, 1)));
            j.append(new LeaseEntry.Granted(migLease("m2", 5, 0, 2)));   // a sibling: no overlap
        }
        try (LeaseJournal j = LeaseJournal.open(dir, MAPPER)) {
            assertEquals(List.of("m", "other", "m2"), List.copyOf(j.restored().leases().keySet()));
            assertEquals(5, j.restored().fencingToken());
        }
    }

    /** Issue 11 finding 10: a damaged RELEASE in the middle used to be skipped silently and revive the lease. */
    @Test
    void aDamagedReleaseStopsTheStartUnlessToldToSkip() throws Exception {
        try (LeaseJournal j = LeaseJournal.open(dir, MAPPER)) {
            j.append(new LeaseEntry.Granted(lease("a", 1, "GPU-0")));
            j.append(new LeaseEntry.Released("a", "released by its holder", T.plusSeconds(5)));
            j.append(new LeaseEntry.Granted(lease("b", 2, "GPU-1")));
        }
        Path file = dir.resolve(LeaseJournal.FILE_NAME);
        List<String> lines = Files.readAllLines(file);
        lines.set(1, lines.get(1).replace("released by its holder", "released by its hold3r"));
        Files.write(file, lines);

        java.io.IOException refused = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class,
                () -> LeaseJournal.open(dir, MAPPER));
        assertTrue(refused.getMessage().contains(file.toAbsolutePath() + ": line 2 is damaged"), refused.getMessage());
        assertTrue(refused.getMessage().contains("gpu-agent.journal.on-corruption"), refused.getMessage());
        try (LeaseJournal j = LeaseJournal.open(dir, MAPPER, io.gpuagent.agent.journal.JsonlJournal.OnCorruption.SKIP)) {
            assertEquals(List.of("a", "b"), List.copyOf(j.restored().leases().keySet()), "skip: told to, and it shows");
        }
    }
}
