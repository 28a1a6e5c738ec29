package io.gpuagent.agent.usage;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.gpuagent.agent.journal.JsonlJournal;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * {@code state-dir/usage.jsonl}: one {@link LeaseUsage} per line (a live lease's checkpoint, or an ended lease's
 * final totals), each fsynced ({@link JsonlJournal}); the last line of a lease wins.
 *
 * <p>Memory: an ended lease is held as its summary ({@link UsageReport#summary()}, a few hundred bytes whatever its
 * GPUs), never as its whole line; its per-device detail is read back from the file when asked for
 * ({@link #find}), and compaction copies the lines it keeps byte for byte. So the agent's heap does not grow with
 * the devices of the leases it keeps.
 */
final class UsageJournal implements AutoCloseable {

    static final String FILE_NAME = "usage.jsonl";
    /** Every line starts so (the record's first field): a lease's lines are found without parsing them. */
    private static final byte[] PREFIX = "{\"leaseId\":\"".getBytes(StandardCharsets.US_ASCII);

    /** What a replay found: live leases' last checkpoints, and ended leases' summaries in the order they ended. */
    record Restored(Map<String, LeaseUsage> checkpoints, LinkedHashMap<String, UsageReport> ended) {
    }

    private final JsonlJournal<LeaseUsage> journal;
    private final Restored restored;

    private UsageJournal(JsonlJournal<LeaseUsage> journal, Restored restored) {
        this.journal = journal;
        this.restored = restored;
    }

    static UsageJournal open(Path stateDir, ObjectMapper mapper, JsonlJournal.OnCorruption onCorruption)
            throws IOException {
        Map<String, LeaseUsage> checkpoints = new HashMap<>();
        LinkedHashMap<String, UsageReport> ended = new LinkedHashMap<>();
        LineReader lines = new LineReader(mapper);
        JsonlJournal<LeaseUsage> journal = JsonlJournal.openLines(stateDir.resolve(FILE_NAME), LeaseUsage.class, mapper,
                (buf, off, len, checked) -> {
                    LeaseUsage u = lines.head(buf, off, len, checked);
                    if (u != null) {   // an ended lease's line with its totals: the detail is not read
                        checkpoints.remove(u.leaseId());
                        ended.remove(u.leaseId());   // re-inserted: in the order of each lease's last line
                        ended.put(u.leaseId(), UsageReport.summary(u, u.totals()));
                        return;
                    }
                    u = lines.whole(buf, off, len);
                    if (u.endedAt() == null) {
                        checkpoints.put(u.leaseId(), u);
                        ended.remove(u.leaseId());
                    } else {
                        checkpoints.remove(u.leaseId());
                        ended.remove(u.leaseId());
                        ended.put(u.leaseId(), UsageReport.of(u, u.endedAt()).summary());
                    }
                }, JsonlJournal.Disk.REAL, onCorruption);
        return new UsageJournal(journal, new Restored(checkpoints, ended));
    }

    /**
     * Reads the lines at open. Most are ended leases' final lines, each carrying its totals
     * ({@link LeaseUsage#totals()}) ahead of its per-device detail: of those only the fields before the detail are
     * read, with a streaming parser that stops there (the line's CRC already vouched for the rest). The detail is
     * most of a line and most of the time a full parse takes (the devices' records, timestamps and prices, and the
     * money computed again from them).
     * Checkpoints, and ended leases' lines from versions that wrote no totals, are parsed whole.
     */
    private static final class LineReader {
        private final JsonFactory factory;
        private final ObjectReader whole;
        private final ObjectReader gaps;
        private final ObjectReader totals;

        LineReader(ObjectMapper mapper) {
            // Configured as JsonlJournal reads its records: java.time, and unknown fields (a newer agent's) ignored.
            ObjectMapper m = mapper.copy().registerModule(new JavaTimeModule())
                    .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
            this.factory = m.getFactory();
            this.whole = m.readerFor(LeaseUsage.class);
            this.gaps = m.readerFor(new TypeReference<List<LeaseUsage.Gap>>() { });
            this.totals = m.readerFor(LeaseUsage.Totals.class);
        }

        /** The line parsed whole; throws when it does not parse (damage). */
        LeaseUsage whole(byte[] buf, int off, int len) throws IOException {
            return whole.readValue(buf, off, len);
        }

        /**
         * An ended lease's line without its devices ({@code gpus} empty), when it carries its totals; null for any
         * other line (a checkpoint, an older line, anything unexpected), which {@link #whole} then reads and judges.
         */
        LeaseUsage head(byte[] buf, int off, int len, boolean checked) {
            try (JsonParser p = factory.createParser(buf, off, len)) {
                if (p.nextToken() != JsonToken.START_OBJECT) {
                    return null;
                }
                String leaseId = null;
                String jobId = null;
                String node = null;
                String currency = null;
                Instant grantedAt = null;
                Instant endedAt = null;
                Instant savedAt = null;
                List<LeaseUsage.Gap> unobserved = List.of();
                LeaseUsage.Totals t = null;
                boolean done = false;
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String name = p.currentName();
                    JsonToken value = p.nextToken();
                    switch (name) {
                        case "leaseId" -> leaseId = text(p);
                        case "jobId" -> jobId = text(p);
                        case "node" -> node = text(p);
                        case "currency" -> currency = text(p);
                        case "grantedAt" -> grantedAt = instant(p);
                        case "endedAt" -> endedAt = instant(p);
                        case "savedAt" -> {
                            if (endedAt == null) {
                                return null;   // a checkpoint (endedAt comes first, and is left out while it runs)
                            }
                            savedAt = instant(p);
                        }
                        case "unobserved" -> unobserved = value == JsonToken.VALUE_NULL ? List.of() : gaps.readValue(p);
                        case "totals" -> t = value == JsonToken.VALUE_NULL ? null : totals.readValue(p);
                        case "gpus" -> {
                            if (checked && endedAt != null && t != null) {
                                done = true;   // the rest is the detail, and the CRC vouched for it: not read
                            } else {
                                p.skipChildren();
                            }
                        }
                        default -> p.skipChildren();   // crc; a newer agent's fields
                    }
                    if (done) {
                        break;
                    }
                }
                if (!done && p.currentToken() != JsonToken.END_OBJECT || leaseId == null || jobId == null || grantedAt == null
                        || endedAt == null || t == null || t.energyJoules() == null || t.gpuSeconds() == null
                        || t.energyCost() == null || t.gpuTimeCost() == null) {
                    return null;
                }
                return new LeaseUsage(leaseId, jobId, node, grantedAt, endedAt, savedAt, currency, List.of(),
                        unobserved, t);
            } catch (IOException | RuntimeException e) {
                return null;   // the whole parse says what is wrong with it
            }
        }

        /** A string value; null for anything else (skipped), so that the whole parse judges the line. */
        private static String text(JsonParser p) throws IOException {
            if (p.currentToken() == JsonToken.VALUE_STRING) {
                return p.getText();
            }
            p.skipChildren();
            return null;
        }

        private static Instant instant(JsonParser p) throws IOException {
            String t = text(p);
            return t == null ? null : Instant.parse(t);
        }
    }

    /** The state as of opening. */
    Restored restored() {
        return restored;
    }

    /** Writes the lines with one fsync. */
    void appendAll(List<LeaseUsage> lines) throws IOException {
        long ticket = 0;
        for (LeaseUsage u : lines) {
            ticket = journal.write(u.withTotals());
        }
        if (ticket > 0) {
            journal.sync(ticket);
        }
    }

    /** The last line of lease {@code leaseId} in the file, parsed; empty when there is none (or it is damaged). */
    Optional<LeaseUsage> find(String leaseId) throws IOException {
        byte[] id = leaseId.getBytes(StandardCharsets.UTF_8);
        byte[][] last = {null};
        journal.scan((buf, off, len, lineNo) -> {
            if (is(buf, off, len, id)) {
                last[0] = java.util.Arrays.copyOfRange(buf, off, off + len);
            }
        });
        if (last[0] == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(journal.parse(last[0], 0, last[0].length));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /**
     * Rewrites the file to the last line of each lease in {@code endedKept} (copied as it is) and {@code live}
     * (the live leases' checkpoints now).
     */
    void compact(Set<String> endedKept, List<LeaseUsage> live) throws IOException {
        Map<String, Long> lastLine = new HashMap<>();
        journal.compact(new JsonlJournal.LinePlan() {
            @Override
            public void see(byte[] buf, int off, int len, long lineNo) {
                String id = idOf(buf, off, len);
                if (id != null && endedKept.contains(id)) {
                    lastLine.put(id, lineNo);
                }
            }

            @Override
            public boolean keep(byte[] buf, int off, int len, long lineNo) {
                String id = idOf(buf, off, len);
                return id != null && Long.valueOf(lineNo).equals(lastLine.get(id));
            }
        }, live);
    }

    /** Rewrites the file to {@code keep} after a failure ({@link JsonlJournal#reopen}). */
    void reopen(List<LeaseUsage> keep) throws IOException {
        journal.reopen(keep.stream().map(LeaseUsage::withTotals).toList());
    }

    Optional<String> failure() {
        return journal.failure();
    }

    long lineCount() {
        return journal.lineCount();
    }

    Path file() {
        return journal.file();
    }

    /** The lease id a line starts with, or null. */
    static String idOf(byte[] buf, int off, int len) {
        if (len <= PREFIX.length || !java.util.Arrays.equals(buf, off, off + PREFIX.length, PREFIX, 0, PREFIX.length)) {
            return null;
        }
        int start = off + PREFIX.length;
        for (int i = start; i < off + len; i++) {
            if (buf[i] == '"') {
                return new String(buf, start, i - start, StandardCharsets.UTF_8);
            }
        }
        return null;
    }

    private static boolean is(byte[] buf, int off, int len, byte[] id) {
        int start = off + PREFIX.length;
        return len > PREFIX.length + id.length
                && java.util.Arrays.equals(buf, off, start, PREFIX, 0, PREFIX.length)
                && java.util.Arrays.equals(buf, start, start + id.length, id, 0, id.length)
                && buf[start + id.length] == '"';
    }

    /**
     * Which ended leases to keep: those that ended after {@code endedAfter}, at most {@code maxEnded} of them (the
     * newest), from {@code ended} in the order they ended.
     */
    static List<String> keep(LinkedHashMap<String, UsageReport> ended, Instant endedAfter, int maxEnded) {
        List<String> within = new ArrayList<>();
        ended.forEach((id, u) -> {
            if (u.endedAt().isAfter(endedAfter)) {
                within.add(id);
            }
        });
        return within.subList(Math.max(0, within.size() - maxEnded), within.size());
    }

    @Override
    public void close() {
        journal.close();
    }
}
