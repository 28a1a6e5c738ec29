package io.gpuagent.agent.usage;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.agent.journal.JsonlJournal;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Benchmark, not a test (agent/bench/usage-journal-load.sh runs it): writes a usage journal of N ended leases of
 * GPUS whole GPUs each, as a compaction leaves it (one line per lease), then opens it ROUNDS times in this JVM and
 * prints the time each open took (the replay the agent does at start), as a BENCHMARKS.md row.
 *
 * <p>Arguments: N (default 10000), GPUS (default 8), ROUNDS (default 5).
 */
public final class UsageJournalLoad {

    public static void main(String[] args) throws Exception {
        int leases = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        int gpus = args.length > 1 ? Integer.parseInt(args[1]) : 8;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        Path dir = Files.createTempDirectory("usage-journal-load");
        ObjectMapper mapper = new ObjectMapper();
        Instant t0 = Instant.parse("2026-01-01T00:00:00Z");
        try (UsageJournal j = UsageJournal.open(dir, mapper, JsonlJournal.OnCorruption.REFUSE)) {
            List<LeaseUsage> batch = new ArrayList<>();
            for (int i = 0; i < leases; i++) {
                Instant granted = t0.plusSeconds(60L * i);
                List<GpuUsage> devices = new ArrayList<>();
                for (int g = 0; g < gpus; g++) {
                    long mj = 1_000_000L * (i + g);
                    devices.add(new GpuUsage("GPU-8a4e6f10-000" + g + "-4c2b-9d3e-5f7a1b2c3d4e",
                            "GPU-8a4e6f10-000" + g + "-4c2b-9d3e-5f7a1b2c3d4e", g, "NVIDIA H100 80GB HBM3", null, 1.0,
                            mj, false, 0, 9_000_000_000L + mj, granted.plusSeconds(3600), 690.5, 40.2, 60, 20.1, 60,
                            61234L, 12.5, 0, List.of(), List.of(), List.of(new GpuUsage.Segment(granted,
                                    new BigDecimal("0.30"), new BigDecimal("2.10"), mj))));
                }
                batch.add(new LeaseUsage("lease-" + i, "slurm-" + i, "dgx-a", granted, granted.plusSeconds(3600),
                        granted.plusSeconds(3600), "EUR", devices, List.of()));
                if (batch.size() == 500) {
                    j.appendAll(batch);
                    batch.clear();
                }
            }
            j.appendAll(batch);
        }
        long bytes = Files.size(dir.resolve(UsageJournal.FILE_NAME));
        double[] ms = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            long start = System.nanoTime();
            try (UsageJournal j = UsageJournal.open(dir, mapper, JsonlJournal.OnCorruption.REFUSE)) {
                if (j.restored().ended().size() != leases) {
                    throw new IllegalStateException("restored " + j.restored().ended().size() + " of " + leases);
                }
            }
            ms[r] = (System.nanoTime() - start) / 1e6;
        }
        Files.deleteIfExists(dir.resolve(UsageJournal.FILE_NAME));
        Files.deleteIfExists(dir);
        double[] sorted = ms.clone();
        Arrays.sort(sorted);
        System.out.printf("| usage journal load, %d leases x %d GPUs (%.1f MB) | first %.0f ms, median %.0f ms, best %.0f ms "
                        + "| < 1000 ms | `agent/bench/usage-journal-load.sh %d %d %d` |%n", leases, gpus, bytes / 1e6, ms[0],
                sorted[rounds / 2], sorted[0], leases, gpus, rounds);
    }

    private UsageJournalLoad() {
    }
}
