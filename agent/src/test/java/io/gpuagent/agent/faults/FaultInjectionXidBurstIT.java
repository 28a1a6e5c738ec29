package io.gpuagent.agent.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.agent.PackagedAgent;
import io.gpuagent.nvml.fake.FakeNvml;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * 1,000 XIDs a second for 10 s from the fake driver (100 warning-class XIDs, 13/31/43/45 over the 8 GPUs, every
 * 100 ms), after one fatal XID 79: gpu_agent_xid_errors_total counts every one of the 10,000 exactly, the agent's
 * resident memory stays within a fixed bound, and the fatal event is still in /v1/events afterwards (the burst
 * is coalesced, it does not push it out of the history).
 */
class FaultInjectionXidBurstIT {

    static final String CASE = "1,000 XIDs/s for 10 s";
    static final int TICKS = 100;
    static final int PER_TICK = 100;
    static final int[] CODES = {13, 31, 43, 45};
    static final long RSS_GROWTH_LIMIT = 32L << 20;
    static final ObjectMapper JSON = new ObjectMapper();
    static final Pattern XID_COUNTER = Pattern.compile("(?m)^gpu_agent_xid_errors_total\\{[^}]*xid=\"(\\d+)\"[^}]*} (\\S+)$");

    @Test
    void everyXidIsCountedMemoryIsBoundedAndTheFatalEventStays() throws Exception {
        try (PackagedAgent agent = PackagedAgent.named("fault-xid-burst").start()) {
            agent.awaitScrape().awaitWatching();
            agent.scenario("gpus = 8\nevent." + FakeNvml.nextEventNumber() + " = 2 xid 79\n");
            AtomicLong fatalId = new AtomicLong();
            agent.await(Duration.ofSeconds(10), () -> {
                for (JsonNode e : events(agent)) {
                    if ("xid".equals(e.path("kind").asText()) && "79".equals(e.path("code").asText())) {
                        fatalId.set(e.path("id").asLong());
                    }
                }
                assertTrue(fatalId.get() > 0, "the fatal XID 79 is not in /v1/events yet");
            });
            long eventsBefore = events(agent).size();
            long rssBefore = agent.rssBytes();

            AtomicLong rssMax = new AtomicLong(rssBefore);
            AtomicInteger ticks = new AtomicInteger();
            AtomicInteger resent = new AtomicInteger();
            // Each write replaces the scenario: a tick the fake has not taken yet (its watcher was not scheduled
            // within the 100 ms on a loaded machine) is written again with the next, until the fake's marker
            // file says it took it. The fake fires each event number once, so nothing fires twice.
            ArrayDeque<String[]> untaken = new ArrayDeque<>();   // {tick, its event lines}
            Path applied = Path.of(agent.scenarioFile() + ".applied");
            long t0 = System.nanoTime();
            try (ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor()) {
                timer.scheduleAtFixedRate(() -> {
                    if (ticks.get() >= TICKS) {
                        return;
                    }
                    int tick = ticks.getAndIncrement();
                    int taken = takenTick(applied);
                    untaken.removeIf(t -> Integer.parseInt(t[0]) <= taken);
                    resent.addAndGet(untaken.size());
                    StringBuilder lines = new StringBuilder();
                    for (int i = 0; i < PER_TICK; i++) {
                        lines.append("event.").append(FakeNvml.nextEventNumber()).append(" = ").append(i % 8).append(" xid ")
                                .append(CODES[(tick + i / 8) % CODES.length]).append('\n');
                    }
                    untaken.addLast(new String[] {Integer.toString(tick), lines.toString()});
                    StringBuilder s = new StringBuilder("gpus = 8\nmarker = " + tick + "\n");
                    untaken.forEach(t -> s.append(t[1]));
                    agent.scenario(s.toString());
                    rssMax.accumulateAndGet(agent.rssBytes(), Math::max);
                }, 0, 100, TimeUnit.MILLISECONDS);
                agent.await(Duration.ofSeconds(30), () -> assertEquals(TICKS, ticks.get(), "burst ticks written"));
                timer.shutdownNow();
            }
            double burstSeconds = (System.nanoTime() - t0) / 1e9;

            long expected = (long) TICKS * PER_TICK;
            // Counted once the agent has taken every event from the driver: wait for the count, up to 15 s.
            long counted = xidCount(agent, false);
            for (long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
                 counted != expected && System.nanoTime() < deadline; counted = xidCount(agent, false)) {
                Thread.sleep(50);
            }
            rssMax.accumulateAndGet(agent.rssBytes(), Math::max);
            assertEquals(1, xidCount(agent, true), "the fatal XID 79 counted once");
            JsonNode history = events(agent);
            boolean fatalKept = false;
            for (JsonNode e : history) {
                fatalKept |= e.path("id").asLong() == fatalId.get();
            }
            long added = history.size() - eventsBefore;
            long growth = rssMax.get() - rssBefore;
            assertTrue(agent.isAlive());
            boolean exact = FaultReport.row(CASE, expected + " XIDs in " + String.format("%.1f", burstSeconds) + " s: "
                    + "gpu_agent_xid_errors_total " + counted + "; they added " + added
                    + " events to /v1/events (coalesced); fatal XID 79 (event " + fatalId.get() + ") "
                    + (fatalKept ? "still there" : "GONE") + "; " + resent.get() + " tick(s) written again, not yet "
                    + "taken by the fake's scenario watcher", "counter = " + expected + ", fatal event kept", counted == expected && fatalKept);
            boolean bounded = FaultReport.row(CASE, "RSS " + FaultReport.mib(rssBefore) + " before, at most "
                    + FaultReport.mib(rssMax.get()) + " during the burst (+" + FaultReport.mib(growth) + ")",
                    "growth <= " + FaultReport.mib(RSS_GROWTH_LIMIT), growth <= RSS_GROWTH_LIMIT);
            assertEquals(expected, counted, "XIDs counted");
            assertTrue(fatalKept, "fatal XID 79 event " + fatalId.get() + " pushed out of /v1/events by the burst");
            assertTrue(bounded, "RSS grew by " + growth + " bytes");
            assertTrue(exact);
        }
    }

    /** The last tick the fake took (its marker file), -1 before the first. */
    private static int takenTick(Path applied) {
        try {
            return Integer.parseInt(Files.readString(applied).strip());
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }

    /** The XID counter summed over GPUs: the burst's codes, or (fatal) XID 79. */
    private static long xidCount(PackagedAgent agent, boolean fatal) {
        Matcher m = XID_COUNTER.matcher(agent.body("/metrics"));
        double sum = 0;
        while (m.find()) {
            boolean is79 = m.group(1).equals("79");
            if (is79 == fatal) {
                sum += Double.parseDouble(m.group(2));
            }
        }
        return Math.round(sum);
    }

    /** Every event kept, walking /v1/events a page (at most 1,000) at a time. */
    private static JsonNode events(PackagedAgent agent) {
        try {
            com.fasterxml.jackson.databind.node.ArrayNode all = JSON.createArrayNode();
            for (long after = 0; ; ) {
                JsonNode page = JSON.readTree(agent.body("/v1/events?limit=1000&since=" + after));
                page.path("events").forEach(all::add);
                if (page.path("events").size() < 1000) {
                    return all;
                }
                after = page.path("lastId").asLong();
            }
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
