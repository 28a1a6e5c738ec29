package io.gpuagent.agent.journal;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JsonlJournalTest {

    record Rec(int thread, int seq, String text, Instant at) {
        static Rec of(int seq) {
            return new Rec(0, seq, "record " + seq, Instant.parse("2025-01-02T03:04:05.123456789Z"));
        }
    }

    private final ObjectMapper mapper = new ObjectMapper();

    @TempDir
    Path dir;

    private JsonlJournal<Rec> open(Path file) throws IOException {
        return JsonlJournal.open(file, Rec.class, mapper);
    }

    private List<Rec> reopen(Path file) throws IOException {
        List<Rec> out = new ArrayList<>();
        JsonlJournal.open(file, Rec.class, mapper, out::add).close();
        return out;
    }

    @Test
    void appendThenReplayRoundTrips() throws IOException {
        Path file = dir.resolve("a/b/log.jsonl");
        List<Rec> written = List.of(Rec.of(1), new Rec(2, 2, "line\nbreak \"quoted\" ünïcode", null), Rec.of(3));
        try (JsonlJournal<Rec> j = open(file)) {
            for (Rec r : written) {
                j.append(r);
            }
            assertEquals(written, j.replay());
            assertEquals(3, j.lineCount());
            assertEquals(Files.size(file), j.size());
        }
        assertEquals(written, reopen(file));
        List<String> lines = Files.readAllLines(file);
        assertEquals(3, lines.size(), "one line per record");
        assertTrue(lines.get(0).contains("\"2025-01-02T03:04:05.123456789Z\""), "ISO-8601 time: " + lines.get(0));
        assertFalse(lines.get(1).contains("\"at\""), "nulls are left out: " + lines.get(1));
    }

    @Test
    void callersMapperSettingsNeitherLeakInNorBreakLines() throws IOException {
        ObjectMapper pretty = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        Path file = dir.resolve("log.jsonl");
        try (JsonlJournal<Rec> j = JsonlJournal.open(file, Rec.class, pretty)) {
            j.append(Rec.of(1));
            j.append(Rec.of(2));
        }
        assertEquals(2, Files.readAllLines(file).size());
        assertTrue(pretty.getRegisteredModuleIds().isEmpty(), "the caller's mapper is not modified");
        Files.writeString(file, "{\"thread\":0,\"seq\":3,\"text\":\"record 3\",\"at\":\"2025-01-02T03:04:05.123456789Z\","
                + "\"addedByANewerVersion\":true}\n", StandardOpenOption.APPEND);
        assertEquals(List.of(Rec.of(1), Rec.of(2), Rec.of(3)), reopen(file), "unknown fields are ignored");
    }

    @Test
    void createsFileAndDirectoriesWithoutWorldAccess() throws IOException {
        Path file = dir.resolve("state/sub/log.jsonl");
        open(file).close();
        if (!dir.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            return;
        }
        // Subsets of 0640 / 0750: the umask may take away more, never add.
        Set<PosixFilePermission> filePerms = Files.getPosixFilePermissions(file);
        assertTrue(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE,
                PosixFilePermission.GROUP_READ).containsAll(filePerms), filePerms::toString);
        Set<PosixFilePermission> dirPerms = Files.getPosixFilePermissions(file.getParent());
        assertTrue(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE,
                PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.GROUP_READ,
                PosixFilePermission.GROUP_EXECUTE).containsAll(dirPerms), dirPerms::toString);
    }

    @Test
    void tornLastLineIsTruncatedAndAppendingGoesOn() throws IOException {
        Path file = dir.resolve("log.jsonl");
        try (JsonlJournal<Rec> j = open(file)) {
            j.append(Rec.of(1));
            j.append(Rec.of(2));
        }
        long good = Files.size(file);
        Files.writeString(file, "{\"thread\":0,\"seq\":3,\"te", StandardOpenOption.APPEND);

        try (JsonlJournal<Rec> j = open(file)) {
            assertEquals(List.of(Rec.of(1), Rec.of(2)), j.replay());
            assertEquals(good, Files.size(file), "torn tail cut off");
            j.append(Rec.of(3));
        }
        assertEquals(List.of(Rec.of(1), Rec.of(2), Rec.of(3)), reopen(file));
    }

    @Test
    void tornTailOfZeroBytesIsTruncated() throws IOException {
        // What some file systems show after a crash: the size grew but the data never made it.
        Path file = dir.resolve("log.jsonl");
        try (JsonlJournal<Rec> j = open(file)) {
            j.append(Rec.of(1));
        }
        Files.write(file, new byte[100], StandardOpenOption.APPEND);
        assertEquals(List.of(Rec.of(1)), reopen(file));
    }

    private JsonlJournal<Rec> skipping(Path file, List<Rec> out) throws IOException {
        return JsonlJournal.open(file, Rec.class, mapper, out::add, JsonlJournal.Disk.REAL, JsonlJournal.OnCorruption.SKIP);
    }

    /** Issue 11 finding 10: a damaged line in the middle stops the start, naming the file, the line and the way out. */
    @Test
    void malformedMiddleLineRefusesToOpenUnlessToldToSkip() throws IOException {
        Path file = dir.resolve("log.jsonl");
        try (JsonlJournal<Rec> j = open(file)) {
            j.append(Rec.of(1));
        }
        Files.writeString(file, "{\"thread\":0,\"seq\":2,garbage\n\n" + "\0\0\0\n", StandardOpenOption.APPEND);
        IOException refused = assertThrows(IOException.class, () -> open(file));
        assertTrue(refused.getMessage().contains(file.toAbsolutePath() + ": line 2 is damaged"), refused.getMessage());
        assertTrue(refused.getMessage().contains("gpu-agent.journal.on-corruption=skip"), refused.getMessage());

        List<Rec> replayed = new ArrayList<>();
        try (JsonlJournal<Rec> j = skipping(file, replayed)) {
            j.append(Rec.of(3));
            j.append(Rec.of(4));
            assertEquals(6, j.lineCount(), "malformed and blank lines still count toward the size bound");
        }
        assertEquals(List.of(Rec.of(1)), replayed);
        List<Rec> again = new ArrayList<>();
        skipping(file, again).close();
        assertEquals(List.of(Rec.of(1), Rec.of(3), Rec.of(4)), again);
    }

    /** A line that still parses but whose bytes changed (a flipped digit) fails its CRC. */
    @Test
    void aLineWhoseBytesChangedFailsItsCrc() throws IOException {
        Path file = dir.resolve("log.jsonl");
        try (JsonlJournal<Rec> j = open(file)) {
            for (int i = 1; i <= 3; i++) {
                j.append(Rec.of(i));
            }
        }
        List<String> lines = Files.readAllLines(file);
        assertTrue(lines.get(1).matches(".*,\"crc\":\"[0-9a-f]{8}\"}"), lines.get(1));
        lines.set(1, lines.get(1).replace("\"seq\":2", "\"seq\":7"));
        Files.write(file, lines);
        IOException refused = assertThrows(IOException.class, () -> open(file));
        assertTrue(refused.getMessage().contains("line 2 is damaged (CRC32C"), refused.getMessage());
        List<Rec> replayed = new ArrayList<>();
        skipping(file, replayed).close();
        assertEquals(List.of(Rec.of(1), Rec.of(3)), replayed);
    }

    /** Files written by the previous version have no CRC: they are read as they are (upgrade). */
    @Test
    void linesWithoutACrcFromTheOlderVersionAreRead() throws IOException {
        Path file = dir.resolve("log.jsonl");
        Files.writeString(file, "{\"thread\":0,\"seq\":1,\"text\":\"record 1\",\"at\":\"2025-01-02T03:04:05.123456789Z\"}\n");
        try (JsonlJournal<Rec> j = open(file)) {
            j.append(Rec.of(2));
        }
        assertEquals(List.of(1, 2), reopen(file).stream().map(Rec::seq).toList());
    }

    @Test
    void compactionKeepsTheChosenRecordsAndSurvivesReopen() throws IOException {
        Path file = dir.resolve("log.jsonl");
        List<Rec> all = new ArrayList<>();
        try (JsonlJournal<Rec> j = open(file)) {
            for (int i = 1; i <= 100; i++) {
                Rec r = Rec.of(i);
                j.append(r);
                all.add(r);
            }
            long before = j.size();
            j.compact(all.subList(90, 100));
            assertTrue(j.size() < before);
            assertEquals(10, j.lineCount());
            assertEquals(Files.size(file), j.size());
            j.append(Rec.of(101));
            assertEquals(11, j.replay().size());
        }
        List<Rec> expected = new ArrayList<>(all.subList(90, 100));
        expected.add(Rec.of(101));
        assertEquals(expected, reopen(file));
        assertFalse(Files.exists(dir.resolve("log.jsonl.tmp")));
    }

    @Test
    void leftoverTmpFromACrashedCompactionIsIgnored() throws IOException {
        Path file = dir.resolve("log.jsonl");
        try (JsonlJournal<Rec> j = open(file)) {
            j.append(Rec.of(1));
        }
        Files.writeString(dir.resolve("log.jsonl.tmp"), "{\"thread\":0,\"seq\":99,\"text\":\"half a compaction\"}\n");
        assertEquals(List.of(Rec.of(1)), reopen(file));
        assertFalse(Files.exists(dir.resolve("log.jsonl.tmp")));
    }

    @Test
    void aSecondWriterIsRefused() throws IOException {
        Path file = dir.resolve("log.jsonl");
        try (JsonlJournal<Rec> j = open(file)) {
            j.append(Rec.of(1));
            assertThrows(IOException.class, () -> open(file));
            j.append(Rec.of(2));   // the refused open did not disturb the first
            j.compact(j.replay());
            assertThrows(IOException.class, () -> open(file), "the lock moves to the compacted file");
        }
        assertEquals(List.of(Rec.of(1), Rec.of(2)), reopen(file));
    }

    @Test
    void closedJournalRefusesAppends() throws IOException {
        JsonlJournal<Rec> j = open(dir.resolve("log.jsonl"));
        assertTrue(j.usable(), "gpu_agent_journal_up reads this");
        j.close();
        j.close();
        assertFalse(j.usable());
        assertThrows(IOException.class, () -> j.append(Rec.of(1)));
    }

    @Test
    void concurrentAppendsLoseNothingAndKeepEachThreadsOrder() throws Exception {
        Path file = dir.resolve("log.jsonl");
        int threads = 16;
        int perThread = 200;
        try (JsonlJournal<Rec> j = open(file); ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                futures.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < perThread; i++) {
                        j.append(new Rec(thread, i, "t" + thread + "-" + i, null));
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : futures) {
                f.get();
            }
        }
        List<Rec> records = reopen(file);
        assertEquals(threads * perThread, records.size());
        Map<Integer, Integer> next = new HashMap<>();
        for (Rec r : records) {
            int expected = next.getOrDefault(r.thread(), 0);
            assertEquals(expected, r.seq(), "thread " + r.thread() + " out of order or duplicated");
            next.put(r.thread(), expected + 1);
        }
        for (int t = 0; t < threads; t++) {
            assertEquals(perThread, next.get(t));
        }
        assertEquals(threads * perThread, Files.readAllLines(file, StandardCharsets.UTF_8).size());
    }

    @Test
    void interruptedAppenderDoesNotBreakTheJournal() throws Exception {
        Path file = dir.resolve("log.jsonl");
        try (JsonlJournal<Rec> j = open(file)) {
            Thread.currentThread().interrupt();
            try {
                j.append(Rec.of(1));
                j.compact(j.replay());
            } finally {
                assertTrue(Thread.interrupted(), "the interrupt is kept for the caller");
            }
            j.append(Rec.of(2));
        }
        assertEquals(List.of(Rec.of(1), Rec.of(2)), reopen(file));
    }
}
