package io.gpuagent.agent.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.agent.PackagedAgent;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * 500 clients open {@code /v1/events/stream} from the start of a history of some 1,600 events (lease grants and
 * releases; {@code Last-Event-ID: 0}) and never read a byte (a 4 KiB receive buffer, so the agent's writes back up at once). The agent serves at most
 * {@code gpu-agent.events.max-subscribers} (64 by default) and answers the rest 503; while they all hang on,
 * /health is answered with p99 under 100 ms and the agent's resident memory stays within a fixed bound of
 * what it was before; once they go, the subscriber count drops back to 0.
 */
class FaultInjectionSlowSseReadersIT {

    static final String CASE = "500 slow SSE readers";
    static final int READERS = 500;
    static final int MAX_SUBSCRIBERS = 64;   // the default of gpu-agent.events.max-subscribers
    static final double HEALTH_P99_LIMIT_MS = 100;
    /** Resident memory the readers may add on top of the agent's own (96 MB heap, SerialGC, as shipped). */
    static final long RSS_GROWTH_LIMIT = 32L << 20;
    static final Duration HOLD = Duration.ofSeconds(8);
    static final int HISTORY_CYCLES = 800;
    static final String SCHEDULER = "sse-scheduler-" + System.nanoTime();
    static final ObjectMapper JSON = new ObjectMapper();
    static final Pattern CLIENTS = Pattern.compile("(?m)^gpu_agent_event_stream_clients ([0-9.]+)$");

    @Test
    void healthStaysFastAndMemoryBoundedUnderSlowReaders() throws Exception {
        Path token = PackagedAgent.writeCredential(Path.of("target", "it-agents").toAbsolutePath()
                .resolve("sse-scheduler-" + System.nanoTime()), SCHEDULER);
        try (PackagedAgent agent = PackagedAgent.named("fault-sse").property("gpu-agent.auth.scheduler-token-file", token).start()) {
            agent.awaitScrape();
            agent.await(PackagedAgent.START, () -> assertEquals(200, agent.status("/health")));
            int history = fillHistory(agent);
            double[] control = FaultReport.latencies(agent, "/health", Duration.ofSeconds(3), 20,
                    r -> assertEquals(200, r.statusCode()));
            long rssBefore = agent.rssBytes();
            List<Socket> readers = new ArrayList<>();
            try {
                for (int i = 0; i < READERS; i++) {
                    Socket s = new Socket();
                    s.setReceiveBufferSize(4096);   // before connect, so the window is small from the start
                    s.connect(new InetSocketAddress("127.0.0.1", agent.port()), 2000);
                    s.getOutputStream().write(("GET /v1/events/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
                            + "Last-Event-ID: 0\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                    s.getOutputStream().flush();
                    readers.add(s);
                }
                agent.await(Duration.ofSeconds(20), () -> assertEquals(MAX_SUBSCRIBERS, clients(agent),
                        "stream clients the agent serves"));

                // /health back to back (20 ms apart) while all 500 hang on.
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
                boolean fast = FaultReport.latency(CASE, "/health while " + READERS + " readers hang on (" + MAX_SUBSCRIBERS
                        + " served, the rest answered 503) for " + HOLD.toSeconds() + " s: " + FaultReport.summary(sorted),
                        p99, FaultReport.quantile(control, 0.99), HEALTH_P99_LIMIT_MS);
                assertTrue(fast, "/health p99 " + p99 + " ms");
            } finally {
                for (Socket s : readers) {
                    try {
                        s.close();
                    } catch (IOException e) {
                        // closing is all we want
                    }
                }
            }
            agent.await(Duration.ofSeconds(30), () -> assertEquals(0, clients(agent), "stream clients after they left"));
        }
    }

    /**
     * A history worth replaying: lease grants and releases (two events each) from four clients, so that each
     * reader starting at event 0 has far more to take than socket buffers hold. Returns the events in history.
     */
    private static int fillHistory(PackagedAgent agent) throws Exception {
        try (ExecutorService clients = Executors.newFixedThreadPool(4)) {
            List<Future<?>> done = new ArrayList<>();
            for (int c = 0; c < 4; c++) {
                int client = c;
                done.add(clients.submit(() -> {
                    for (int i = 0; i < HISTORY_CYCLES / 4; i++) {
                        HttpResponse<String> r = agent.send("POST", "/v1/leases", SCHEDULER,
                                "{\"jobId\":\"history-" + client + "-" + i + "\",\"gpus\":1}");
                        assertEquals(201, r.statusCode(), r.body());
                        String id = JSON.readTree(r.body()).get("leaseId").asText();
                        assertEquals(204, agent.send("DELETE", "/v1/leases/" + id, SCHEDULER, null).statusCode());
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        }
        int[] events = new int[1];
        agent.await(Duration.ofSeconds(30), () -> {
            try {
                events[0] = JSON.readTree(agent.body("/v1/events?limit=10000")).path("events").size();
            } catch (IOException e) {
                throw new AssertionError(e);
            }
            assertTrue(events[0] >= 2 * HISTORY_CYCLES, "lease events in history: " + events[0]);
        });
        return events[0];
    }

    private static int clients(PackagedAgent agent) {
        Matcher m = CLIENTS.matcher(agent.body("/metrics"));
        assertTrue(m.find(), "no gpu_agent_event_stream_clients in /metrics");
        return (int) Double.parseDouble(m.group(1));
    }
}
