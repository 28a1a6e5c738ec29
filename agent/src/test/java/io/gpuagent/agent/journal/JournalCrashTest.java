package io.gpuagent.agent.journal;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Kills a process that is appending (SIGKILL: no shutdown hooks, no flushing) and checks that every event it
 * acknowledged is in the log afterwards. Several rounds on the same directory, so later rounds also start
 * from a file the previous kill may have torn.
 */
class JournalCrashTest {

    private static final Pattern ACK = Pattern.compile("ack:(\\d+)\\.");
    private static final int ROUNDS = 3;
    private static final int ACKS_BEFORE_KILL = 300;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "capacity {0}, compact at {1} lines, {2} appenders")
    @CsvSource({
            "100000, 400000, 1",   // no compaction: every acknowledged event must still be in the file
            "100000, 400000, 4",   // group commit: several appenders share fsyncs
            "20, 40, 4",           // compaction every few dozen events, racing the kill
    })
    @Timeout(120)
    void acknowledgedEventsSurviveKillDashNine(int capacity, long compactAt, int threads) throws Exception {
        TreeSet<Long> acked = new TreeSet<>();
        for (int round = 0; round < ROUNDS; round++) {
            acked.addAll(runAndKill(capacity, compactAt, threads));
        }
        assertTrue(acked.size() >= ROUNDS * ACKS_BEFORE_KILL, "acks read: " + acked.size());

        List<AgentEvent> file = new ArrayList<>();
        JsonlJournal.open(dir.resolve(EventLog.FILE_NAME), AgentEvent.class, new ObjectMapper(), file::add).close();
        List<Long> ids = file.stream().map(AgentEvent::id).toList();
        for (int i = 1; i < ids.size(); i++) {
            assertTrue(ids.get(i) > ids.get(i - 1), "ids increase in file order at line " + (i + 1));
        }
        TreeSet<Long> present = new TreeSet<>(ids);
        for (long id : acked) {
            // Compaction may drop an old event, but only once `capacity` newer ones are in the file.
            boolean compactedAway = present.tailSet(id, false).size() >= capacity;
            assertTrue(present.contains(id) || compactedAway, "acknowledged event " + id + " was lost");
        }

        try (EventLog log = new EventLog(dir, capacity, compactAt, new ObjectMapper())) {
            assertTrue(log.lastId() >= acked.last(), "ids continue after the highest acknowledged one");
            assertTrue(log.append(AgentEvent.of(null, null, AgentEvent.NVML, "test", "after-crash", "x")).id() > acked.last());
        }
    }

    private List<Long> runAndKill(int capacity, long compactAt, int threads) throws Exception {
        Process child = new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"),
                JournalCrashChild.class.getName(),
                dir.toString(), Integer.toString(capacity), Long.toString(compactAt), Integer.toString(threads))
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        List<Long> acks = new ArrayList<>();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                if (acks.size() == ACKS_BEFORE_KILL) {
                    // SIGKILL on Linux. Through the handle, because Process.destroyForcibly() also closes our end
                    // of the pipe, and the acks still in it are the ones most at risk.
                    child.toHandle().destroyForcibly();
                }
                Matcher m = ACK.matcher(line);
                if (m.matches()) {   // a line cut by the kill has no '.': not an acknowledgement we can read
                    acks.add(Long.parseLong(m.group(1)));
                }
            }
        } finally {
            child.destroyForcibly();
        }
        int exit = child.waitFor();
        assertNotEquals(0, exit, "the child was killed, it did not exit");
        assertTrue(acks.size() >= ACKS_BEFORE_KILL, "child died early (exit " + exit + ") after " + acks.size() + " acks");
        return acks;
    }
}
