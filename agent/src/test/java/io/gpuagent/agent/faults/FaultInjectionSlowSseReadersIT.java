package io.gpuagent.agent.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.agent.PackagedAgent;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * 400 clients open {@code /v1/events/stream} from the start of a history of 10,000 events (cordon and uncordon
 * calls; {@code Last-Event-ID: 0}) and never read a byte (a 4 KiB receive buffer, so the agent's writes back up at
 * once). They come from 50 loopback addresses, 8 each (127.0.0.2 to 127.0.0.51), the probes from 127.0.0.1. The
 * agent serves at most {@code gpu-agent.events.max-subscribers} (64) of which 16 are kept for clients with a
 * credential ({@code reserved-for-authenticated}), and 8 per address ({@code max-subscribers-per-address}): 48
 * readers are served, the rest answered 503; an operator's reader still gets in and one more anonymous one does
 * not. While they all hang on, /health is answered with p99 under 100 ms and the agent's resident memory stays
 * within a fixed bound of what it was before; once they go, the subscriber count drops back to 0.
 */
class FaultInjectionSlowSseReadersIT {

    static final String CASE = "400 slow SSE readers";
    static final int ADDRESSES = 50;
    static final int PER_ADDRESS = 8;        // the default of gpu-agent.events.max-subscribers-per-address
    static final int READERS = ADDRESSES * PER_ADDRESS;
    static final int MAX_SUBSCRIBERS = 64;   // the default of gpu-agent.events.max-subscribers
    static final int ANONYMOUS = 48;         // less the default 16 of gpu-agent.events.reserved-for-authenticated
    static final double HEALTH_P99_LIMIT_MS = 100;
    /** Resident memory the readers may add on top of the agent's own (64 MB heap, SerialGC, as shipped). */
    static final long RSS_GROWTH_LIMIT = 32L << 20;
    static final Duration HOLD = Duration.ofSeconds(8);
    static final int HISTORY = 10_000;
    static final int CORDON_CALLS = HISTORY / 2;   // each makes two events
    static final String OPERATOR = "sse-operator-" + System.nanoTime();
    static final Pattern CLIENTS = Pattern.compile("(?m)^gpu_agent_event_stream_clients ([0-9.]+)$");

    @Test
    void healthStaysFastAndMemoryBoundedUnderSlowReaders() throws Exception {
        Path token = PackagedAgent.writeCredential(Path.of("target", "it-agents").toAbsolutePath()
                .resolve("sse-operator-" + System.nanoTime()), OPERATOR);
        try (PackagedAgent agent = PackagedAgent.named("fault-sse").property("gpu-agent.auth.operator-token-file", token).start()) {
            agent.awaitScrape();
            agent.await(PackagedAgent.START, () -> assertEquals(200, agent.status("/health")));
            int history = FaultInjectionSlowReadersIT.fillByCordons(agent, OPERATOR, CORDON_CALLS);
            double[] control = FaultReport.latencies(agent, "/health", Duration.ofSeconds(3), 20,
                    r -> assertEquals(200, r.statusCode()));
            long rssBefore = agent.rssBytes();
            String replay = SlowReaders.get("/v1/events/stream", "Accept: text/event-stream", "Last-Event-ID: 0");
            try (SlowReaders readers = new SlowReaders()) {
                for (int a = 0; a < ADDRESSES; a++) {
                    readers.add(PER_ADDRESS, "127.0.0." + (2 + a), agent.port(), replay);
                }
                agent.await(Duration.ofSeconds(20), () -> assertEquals(ANONYMOUS, clients(agent),
                        "stream clients the agent serves"));
                // The slots kept for credentials: an operator's reader gets in, one more anonymous one does not.
                // Its connection may meet the agent's connection cap (256) before the refused anonymous readers'
                // connections are closed; refused at accept, it connects again, as a client would.
                String operator = SlowReaders.get("/v1/events/stream", "Accept: text/event-stream",
                        "Authorization: Bearer " + OPERATOR);
                int refusedBefore = readers.refused();
                int[] refusedSeen = {refusedBefore};
                readers.add(1, "127.0.0.1", agent.port(), operator);
                agent.await(Duration.ofSeconds(10), () -> {
                    if (readers.refused() > refusedSeen[0]) {   // its last try was refused: one more
                        refusedSeen[0] = readers.refused();
                        readers.add(1, "127.0.0.1", agent.port(), operator);
                    }
                    assertEquals(ANONYMOUS + 1, clients(agent), "an authenticated reader takes a reserved slot ("
                            + (readers.refused() - refusedBefore) + " of its connections refused at accept)");
                });
                assertEquals(503, agent.get("/v1/events/stream").statusCode(), "an anonymous reader past the cap");

                // /health back to back (20 ms apart) while all 400 hang on.
                AtomicLong rssMax = new AtomicLong(agent.rssBytes());
                double[] sorted = FaultReport.latencies(agent, "/health", HOLD, 20, r -> {
                    assertEquals(200, r.statusCode());
                    rssMax.accumulateAndGet(agent.rssBytes(), Math::max);
                });
                assertTrue(clients(agent) <= MAX_SUBSCRIBERS);
                assertTrue(agent.isAlive(), "the agent is up");
                double p99 = FaultReport.quantile(sorted, 0.99);
                long growth = rssMax.get() - rssBefore;
                boolean bounded = FaultReport.row(CASE, "RSS " + FaultReport.mib(rssBefore) + " before, at most "
                        + FaultReport.mib(rssMax.get()) + " while " + READERS + " readers of a " + history + "-event history "
                        + "hang on (+" + FaultReport.mib(growth) + ")",
                        "growth <= " + FaultReport.mib(RSS_GROWTH_LIMIT), growth <= RSS_GROWTH_LIMIT);
                assertTrue(bounded, "RSS grew by " + growth + " bytes");
                boolean fast = FaultReport.latency(CASE, "/health from 127.0.0.1 while " + READERS + " readers replaying "
                        + history + " events from " + ADDRESSES + " addresses hang on (" + ANONYMOUS + " served, "
                        + "a reserved slot taken by an operator's reader, the rest answered 503) for " + HOLD.toSeconds()
                        + " s: " + FaultReport.summary(sorted), p99, FaultReport.quantile(control, 0.99), HEALTH_P99_LIMIT_MS);
                assertTrue(fast, "/health p99 " + p99 + " ms");
            }
            agent.await(Duration.ofSeconds(30), () -> assertEquals(0, clients(agent), "stream clients after they left"));
        }
    }

    private static int clients(PackagedAgent agent) {
        Matcher m = CLIENTS.matcher(agent.body("/metrics"));
        assertTrue(m.find(), "no gpu_agent_event_stream_clients in /metrics");
        return (int) Double.parseDouble(m.group(1));
    }
}
