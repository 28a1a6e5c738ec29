package io.gpuagent.agent.journal;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EventLogTest {

    private final ObjectMapper mapper = new ObjectMapper();

    @TempDir
    Path dir;

    static AgentEvent xid(int gpu, int code) {
        return AgentEvent.of(gpu, "GPU-" + gpu, AgentEvent.XID, "xid", Integer.toString(code), "XID " + code);
    }

    /** Every event in the file, through a fresh journal (so the EventLog under test must be closed). */
    private List<AgentEvent> fileContents() throws IOException {
        List<AgentEvent> out = new ArrayList<>();
        JsonlJournal.open(dir.resolve(EventLog.FILE_NAME), AgentEvent.class, mapper, out::add).close();
        return out;
    }

    private static List<Long> ids(List<AgentEvent> events) {
        return events.stream().map(AgentEvent::id).toList();
    }

    private static List<Long> range(long fromInclusive, long toInclusive) {
        List<Long> out = new ArrayList<>();
        for (long i = fromInclusive; i <= toInclusive; i++) {
            out.add(i);
        }
        return out;
    }

    @Test
    void beforeWalksBackAPageAtATimeOverEveryEvent() {
        try (EventLog log = new EventLog(dir, 10, 40, mapper)) {
            for (int i = 0; i < 25; i++) {
                log.append(xid(i % 2, 13));
            }
            assertEquals(range(21, 25), ids(log.latest(null, null, 5)));
            assertEquals(range(16, 20), ids(log.before(21, null, null, 5)));
            // Only the newest 10 are kept: the walk ends at the oldest one, with a short page.
            assertEquals(range(16, 20), ids(log.before(21, null, null, 100)));
            assertEquals(List.of(), ids(log.before(16, null, null, 5)));
            assertEquals(List.of(17L, 19L), ids(log.before(21, 0, null, 2)), "GPU 0's: the odd ids");
        }
    }

    @Test
    void appendAssignsIdsAndTimesAndReplaysAfterReopen() {
        List<AgentEvent> stored = new ArrayList<>();
        try (EventLog log = new EventLog(dir, 100, mapper)) {
            stored.add(log.append(xid(0, 79)));
            stored.add(log.append(AgentEvent.stateChange(0, "GPU-0", "lost", "LOST", "LOST", "HEALTHY", "fell off the bus")));
            stored.add(log.append(AgentEvent.of(null, null, AgentEvent.NVML, "driver", "UNINITIALIZED", "NVML down")));
        }
        assertEquals(List.of(1L, 2L, 3L), ids(stored));
        stored.forEach(e -> assertNotNull(e.time()));

        try (EventLog log = new EventLog(dir, 100, mapper)) {
            assertEquals(stored, log.since(0, null, null, 100), "times and fields survive the round trip");
            assertEquals(3, log.lastId());
            assertEquals(4, log.append(xid(1, 48)).id(), "ids continue after a restart");
        }
        try (EventLog log = new EventLog(dir, 100, mapper)) {
            assertEquals(5, log.append(xid(1, 48)).id());
        }
    }

    @Test
    void appendAllStoresEventsTogetherWithConsecutiveIdsAndOneTime() throws IOException {
        List<AgentEvent> seen = new ArrayList<>();
        List<AgentEvent> stored;
        try (EventLog log = new EventLog(dir, 100, mapper)) {
            log.append(xid(3, 13));
            log.subscribe(log.lastId(), seen::add);
            stored = log.appendAll(List.of(xid(0, 79),
                    AgentEvent.stateChange(0, "GPU-0", "xid", "XID_79", "LOST", "HEALTHY", "fell off the bus")));
            assertEquals(List.of(2L, 3L), ids(stored));
            assertEquals(stored.get(0).time(), stored.get(1).time(), "one moment for events that belong together");
            assertEquals(stored, seen, "subscribers get both, in order");
            assertEquals(List.of(), log.appendAll(List.of()));
        }
        assertEquals(List.of(1L, 2L, 3L), ids(fileContents()));
        assertEquals(stored, fileContents().subList(1, 3));
    }

    @Test
    void aMigDevicesEventsCarryItsUuidAndAddressAndOldLinesStillRead() throws IOException {
        String mig2 = "MIG-00000000-0020-4000-8000-000000000001";
        String mig3 = "MIG-00000000-0030-4000-8000-000000000001";
        // A line as an agent before MIG devices had events wrote it: no migUuid, no migAddress.
        Files.writeString(dir.resolve(EventLog.FILE_NAME), "{\"id\":1,\"time\":\"2025-01-01T00:00:00Z\",\"gpu\":0,"
                + "\"uuid\":\"GPU-0\",\"kind\":\"xid\",\"detector\":\"xid\",\"code\":\"13\",\"state\":null,"
                + "\"previousState\":null,\"message\":\"XID 13\"}\n");
        try (EventLog log = new EventLog(dir, 100, mapper)) {
            AgentEvent old = log.since(0, EventFilter.ALL, 10).getFirst();
            assertEquals("GPU-0", old.uuid());
            assertEquals(null, old.migUuid());
            assertEquals(null, old.migAddress());
            log.append(xid(0, 31).withMig(mig2, "0/2"));
            log.append(AgentEvent.stateChange(0, "GPU-0", "xid", "XID_31", "DEGRADED", "HEALTHY", "0/3 degraded")
                    .withMig(mig3, "0/3"));
            log.append(xid(1, 13));

            assertEquals(List.of(1L, 2L, 3L), ids(log.since(0, 0, null, 10)), "a GPU's events include its MIG devices'");
            assertEquals(List.of(1L, 2L, 3L), ids(log.since(0, null, "GPU-0", 10)));
            assertEquals(List.of(2L), ids(log.since(0, new EventFilter(null, null, mig2, null), 10)));
            assertEquals(List.of(3L), ids(log.latest(new EventFilter(0, null, null, "0/3"), 10)));
            assertEquals(List.of(), ids(log.before(4, new EventFilter(1, null, null, "1/3"), 10)));
        }
        try (EventLog log = new EventLog(dir, 100, mapper)) {
            AgentEvent e = log.since(1, EventFilter.ALL, 1).getFirst();
            assertEquals(mig2, e.migUuid(), "the MIG fields survive the round trip");
            assertEquals("0/2", e.migAddress());
        }
    }

    @Test
    void queriesFilterAndPage() {
        try (EventLog log = new EventLog(dir, 100, mapper)) {
            Instant t0 = Instant.parse("2025-01-01T00:00:00Z");
            for (int i = 0; i < 10; i++) {
                log.append(xid(i % 2, 13).withTime(t0.plusSeconds(i)));
            }
            log.append(AgentEvent.of(null, null, AgentEvent.NVML, "driver", "UP", "node-level"));

            assertEquals(List.of(4L, 5L, 6L), ids(log.since(3, null, null, 3)), "earliest after the cursor, newest last");
            assertEquals(List.of(3L, 5L, 7L, 9L), ids(log.since(1, 0, null, 100)), "GPU 0 only");
            assertEquals(List.of(2L, 4L), ids(log.since(0, null, "GPU-1", 2)));
            assertEquals(List.of(), ids(log.since(0, 0, "GPU-1", 100)), "index and uuid must both match");
            assertEquals(List.of(9L, 10L, 11L), ids(log.since(t0.plusSeconds(7), null, null, 100)), "strictly after");
            assertEquals(List.of(7L, 9L), ids(log.latest(0, null, 2)));
            assertEquals(List.of(10L, 11L), ids(log.latest(null, null, 2)));
            assertEquals(1, log.oldestId());
            assertThrows(IllegalArgumentException.class, () -> log.since(0, null, null, 0));
        }
    }

    @Test
    void memoryKeepsTheNewestAndCompactionBoundsTheFile() throws IOException {
        int capacity = 10;
        try (EventLog log = new EventLog(dir, capacity, mapper)) {
            for (int i = 1; i <= 95; i++) {
                log.append(xid(0, i));
            }
            assertEquals(range(86, 95), ids(log.since(0, null, null, 1000)));
            assertEquals(86, log.oldestId());
        }
        List<AgentEvent> file = fileContents();
        assertTrue(file.size() <= 4 * capacity, "file has " + file.size() + " lines");
        assertEquals(range(96 - file.size(), 95), ids(file), "the file holds the newest, in order");

        try (EventLog log = new EventLog(dir, capacity, mapper)) {
            assertEquals(range(86, 95), ids(log.since(0, null, null, 1000)));
            assertEquals(96, log.append(xid(0, 1)).id());
        }
    }

    @Test
    void reopeningWithASmallerCapacityCompactsAtOnce() throws IOException {
        try (EventLog log = new EventLog(dir, 1000, mapper)) {
            for (int i = 0; i < 100; i++) {
                log.append(xid(0, i));
            }
        }
        new EventLog(dir, 5, 20, mapper).close();
        assertEquals(range(96, 100), ids(fileContents()));
    }

    @Test
    void concurrentAppendsGetUniqueIdsInFileOrder() throws Exception {
        int threads = 16;
        int perThread = 150;
        Set<Long> returned = Collections.synchronizedSet(new HashSet<>());
        try (EventLog log = new EventLog(dir, 10_000, mapper); ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int gpu = t;
                futures.add(pool.submit(() -> {
                    start.await();
                    long previous = 0;
                    for (int i = 0; i < perThread; i++) {
                        long id = log.append(xid(gpu, i)).id();
                        assertTrue(id > previous, "ids grow for each appender");
                        assertTrue(returned.add(id), "duplicate id " + id);
                        previous = id;
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : futures) {
                f.get();
            }
            assertEquals(range(1, threads * perThread), ids(log.since(0, null, null, Integer.MAX_VALUE)));
        }
        assertEquals(range(1, threads * perThread), ids(fileContents()), "file order is id order, nothing lost");
    }

    @Test
    void subscribersSeeEveryEventOnceInOrderWhileAppendsRace() throws Exception {
        int total = 3000;
        int appenders = 4;
        try (EventLog log = new EventLog(dir, 10_000, mapper); ExecutorService pool = Executors.newFixedThreadPool(appenders)) {
            for (int i = 0; i < 50; i++) {
                log.append(xid(0, i));
            }
            AtomicLong appended = new AtomicLong(50);
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < appenders; t++) {
                futures.add(pool.submit(() -> {
                    while (appended.incrementAndGet() <= total) {
                        log.append(xid(1, 0));
                    }
                    return null;
                }));
            }
            // Subscribe repeatedly while the appenders run, each time resuming from an id that is in memory.
            record Sub(long after, List<Long> seen, EventLog.Subscription subscription) { }
            List<Sub> subs = new ArrayList<>();
            while (log.lastId() < total - 100) {
                long after = Math.max(0, log.lastId() - 20);
                List<Long> seen = Collections.synchronizedList(new ArrayList<>());
                subs.add(new Sub(after, seen, log.subscribe(after, e -> seen.add(e.id()))));
                Thread.sleep(1);
            }
            for (Future<?> f : futures) {
                f.get();
            }
            assertEquals(total, log.lastId());
            assertFalse(subs.isEmpty());
            for (Sub s : subs) {
                assertContiguous(s.after() + 1, total, s.seen());
                s.subscription().close();
                assertFalse(s.subscription().isActive());
            }
            log.append(xid(0, 0));
            for (Sub s : subs) {
                assertEquals(total - s.after(), s.seen().size(), "no delivery after unsubscribe");
            }
        }
    }

    /** Exactly from..to in order; on failure names the first wrong position instead of dumping the lists. */
    private static void assertContiguous(long from, long to, List<Long> seen) {
        for (int i = 0; i < seen.size(); i++) {
            if (seen.get(i) != from + i) {
                throw new AssertionError("subscriber from " + from + ": position " + i + " has id " + seen.get(i)
                        + ", expected " + (from + i) + " (gap, duplicate or out of order)");
            }
        }
        assertEquals(to - from + 1, seen.size(), "subscriber from " + from + " saw too few events");
    }

    @Test
    void aFailingListenerIsDroppedAndOthersGoOn() {
        try (EventLog log = new EventLog(dir, 100, mapper)) {
            List<Long> good = new ArrayList<>();
            EventLog.Subscription bad = log.subscribe(0, e -> {
                throw new IllegalStateException("client went away");
            });
            log.subscribe(0, e -> good.add(e.id()));
            log.append(xid(0, 1));
            log.append(xid(0, 2));
            assertFalse(bad.isActive());
            assertEquals(List.of(1L, 2L), good);
        }
    }

    @Test
    void closedLogRefusesAppends() {
        EventLog log = new EventLog(dir, 10, mapper);
        log.close();
        assertThrows(IllegalStateException.class, () -> log.append(xid(0, 1)));
    }

    @Test
    void fileIsJsonLinesWithIsoTimes() throws IOException {
        try (EventLog log = new EventLog(dir, 10, mapper)) {
            log.append(xid(3, 79).withTime(Instant.parse("2025-06-01T12:00:00.5Z")));
        }
        String line = Files.readAllLines(dir.resolve(EventLog.FILE_NAME)).getFirst();
        String json = "{\"id\":1,\"time\":\"2025-06-01T12:00:00.500Z\",\"gpu\":3,\"uuid\":\"GPU-3\",\"kind\":\"xid\","
                + "\"detector\":\"xid\",\"code\":\"79\",\"message\":\"XID 79\"}";
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(json.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        assertEquals(json.substring(0, json.length() - 1) + ",\"crc\":\"" + String.format("%08x", crc.getValue()) + "\"}",
                line, "the JSON, then a CRC32C of it as the last field");
    }

    /** Issue 11 finding 10: a damaged event in the middle of events.jsonl stops the start, unless told to skip. */
    @Test
    void aDamagedMiddleLineStopsTheStartUnlessToldToSkip() throws Exception {
        ObjectMapper mapper = new ObjectMapper();
        try (EventLog log = new EventLog(dir, 100, mapper)) {
            for (int i = 1; i <= 3; i++) {
                log.append(AgentEvent.of(0, "GPU-0", AgentEvent.XID, "xid", "79", "event " + i));
            }
        }
        Path file = dir.resolve(EventLog.FILE_NAME);
        List<String> lines = Files.readAllLines(file);
        lines.set(1, lines.get(1).replace("event 2", "event 9"));
        Files.write(file, lines);
        java.io.UncheckedIOException refused = assertThrows(java.io.UncheckedIOException.class,
                () -> new EventLog(dir, 100, mapper));
        assertTrue(refused.getMessage().contains(file.toAbsolutePath() + ": line 2 is damaged"), refused.getMessage());
        assertTrue(refused.getMessage().contains("gpu-agent.journal.on-corruption=skip"), refused.getMessage());
        try (EventLog log = new EventLog(dir, 100, 400, mapper, JsonlJournal.Disk.REAL, JsonlJournal.OnCorruption.SKIP)) {
            assertEquals(List.of("event 1", "event 3"), log.latest(null, null, 10).stream().map(AgentEvent::message).toList());
        }
    }

    /**
     * Issue 11: a burst of other events cannot evict a fatal event (what /health names) from the history:
     * it stays listed, in id order before the window, once, also for paging with since, subscribers, after a
     * compaction and a restart; at most FATAL_KEPT of them.
     */
    @Test
    void aFatalEventOutlivesTheWindowOfOtherEvents() throws IOException {
        int capacity = 5;
        long fatalId;
        try (EventLog log = new EventLog(dir, capacity, 4L * capacity, mapper)) {
            fatalId = log.append(AgentEvent.stateChange(2, "GPU-2", "xid", "79", "UNHEALTHY", "HEALTHY", "fell off")).id();
            for (int i = 0; i < 5 * capacity; i++) {
                log.append(AgentEvent.of(2, "GPU-2", AgentEvent.NVML, "nvml", "N", "other " + i));
            }
            assertTrue(log.oldestId() > fatalId, "the fatal event is out of the window");
            assertKept(log, fatalId, capacity);
            List<Long> delivered = new ArrayList<>();
            log.subscribe(0, e -> delivered.add(e.id())).close();
            assertEquals(fatalId, delivered.getFirst());
            assertEquals(capacity + 1, delivered.size(), delivered.toString());
        }
        assertTrue(fileContents().size() < 5 * capacity, "the file was compacted");
        try (EventLog again = new EventLog(dir, capacity, 4L * capacity, mapper)) {
            assertKept(again, fatalId, capacity);   // the compaction kept the fatal line
        }
        try (EventLog log = new EventLog(dir, capacity, 4L * capacity, mapper)) {
            for (int i = 0; i < EventLog.FATAL_KEPT + 10; i++) {
                log.append(AgentEvent.stateChange(3, "GPU-3", "ecc", "E", "LOST", "HEALTHY", "fatal " + i));
                log.append(AgentEvent.stateChange(3, "GPU-3", "ecc", "E", "HEALTHY", "LOST", "cleared " + i));
            }
            List<AgentEvent> all = log.since(0, null, null, 10_000);
            assertEquals(EventLog.FATAL_KEPT + capacity, all.size(), "bounded: the newest FATAL_KEPT fatal ones, then the window");
            assertTrue(all.stream().noneMatch(e -> e.id() == fatalId), "the oldest fatal event made room");
        }
    }

    private static void assertKept(EventLog log, long fatalId, int capacity) {
        List<AgentEvent> first = log.since(0, 2, null, 3);
        assertEquals(fatalId, first.getFirst().id(), "since=0 starts with the fatal event");
        assertEquals(3, first.size());
        assertTrue(first.get(1).id() >= log.oldestId() && first.get(1).id() < first.get(2).id(), "then the window, in id order");
        List<AgentEvent> next = log.since(fatalId, 2, null, 100);
        assertEquals(capacity, next.size(), "paging on from it: the window, nothing twice");
        assertTrue(next.stream().noneMatch(e -> e.id() == fatalId));
        List<AgentEvent> latest = log.latest(2, null, 100);
        assertEquals(fatalId, latest.getFirst().id(), "latest lists it too, oldest first");
        assertEquals(capacity + 1, latest.size());
        assertEquals(List.of(fatalId), log.latest(2, null, capacity + 1).stream().limit(1).map(AgentEvent::id).toList());
    }
}
