package io.gpuagent.agent.usage;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.agent.journal.JsonlJournal;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code state-dir/usage.jsonl}: one {@link LeaseUsage} per line (a live lease's checkpoint, or an ended lease's
 * final totals), each fsynced ({@link JsonlJournal}). Replay keeps the last line of each lease; {@link #keep}
 * chooses what a compaction rewrites the file to: every live lease, and the ended ones within the retention,
 * newest first up to a count.
 */
final class UsageJournal implements AutoCloseable {

    static final String FILE_NAME = "usage.jsonl";

    private final JsonlJournal<LeaseUsage> journal;
    private final Map<String, LeaseUsage> restored;

    private UsageJournal(JsonlJournal<LeaseUsage> journal, Map<String, LeaseUsage> restored) {
        this.journal = journal;
        this.restored = restored;
    }

    static UsageJournal open(Path stateDir, ObjectMapper mapper, JsonlJournal.OnCorruption onCorruption)
            throws IOException {
        Map<String, LeaseUsage> last = new LinkedHashMap<>();
        JsonlJournal<LeaseUsage> journal = JsonlJournal.open(stateDir.resolve(FILE_NAME), LeaseUsage.class, mapper,
                u -> {
                    last.remove(u.leaseId());   // re-inserted: the map is in order of each lease's last line
                    last.put(u.leaseId(), u);
                }, JsonlJournal.Disk.REAL, onCorruption);
        return new UsageJournal(journal, last);
    }

    /** Each lease's last line as of opening, in the order of those lines. */
    Map<String, LeaseUsage> restored() {
        return restored;
    }

    /** Writes the lines with one fsync. */
    void appendAll(List<LeaseUsage> lines) throws IOException {
        long ticket = 0;
        for (LeaseUsage u : lines) {
            ticket = journal.write(u);
        }
        if (ticket > 0) {
            journal.sync(ticket);
        }
    }

    long lineCount() {
        return journal.lineCount();
    }

    void compact(List<LeaseUsage> keep) throws IOException {
        journal.compact(keep);
    }

    java.util.Optional<String> failure() {
        return journal.failure();
    }

    /** After a failure: reopens the file and rewrites it to {@code keep}. */
    void reopen(List<LeaseUsage> keep) throws IOException {
        journal.reopen(keep);
    }

    Path file() {
        return journal.file();
    }

    /**
     * Of {@code records} (each lease's last line, oldest first): the live ones, and the ended ones that ended
     * after {@code endedAfter}, at most {@code maxEnded} of them (the newest).
     */
    static List<LeaseUsage> keep(List<LeaseUsage> records, Instant endedAfter, int maxEnded) {
        List<LeaseUsage> ended = new ArrayList<>();
        List<LeaseUsage> keep = new ArrayList<>();
        for (LeaseUsage u : records) {
            if (u.endedAt() == null) {
                keep.add(u);
            } else if (u.endedAt().isAfter(endedAfter)) {
                ended.add(u);
            }
        }
        int from = Math.max(0, ended.size() - maxEnded);
        List<LeaseUsage> out = new ArrayList<>(ended.subList(from, ended.size()));
        out.addAll(keep);
        return out;
    }

    @Override
    public void close() {
        journal.close();
    }
}
