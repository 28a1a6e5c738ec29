package io.gpuagent.agent.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.agent.PackagedAgent;
import java.net.http.HttpResponse;
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
 * 1,000 clients that send {@code GET /metrics} (64 GPUs: a 0.4 MB answer) and never read, then 1,000 that send
 * {@code GET /v1/events?limit=...} after 5,000 cordon/uncordon calls filled the history, and never read: half ask
 * for {@code limit=10000} (a 4 MB answer before pages were bounded; now a 400), half for a whole page. While they
 * hang on, {@code /health} answers with p99 under 100 ms, no OutOfMemoryError is logged and the agent lives.
 *
 * <p>The readers all come from 127.0.0.2 and the probes from 127.0.0.1: what keeps the probes answered is the
 * per-address connection cap ({@code gpu-agent.http.max-connections-per-address}, 64), which closes the readers
 * past it at accept, and the bounded answer of each one it keeps. (From one address, as the readers, the probes
 * would be refused too: that is the cap doing its job, not what this case is about.)
 */
class FaultInjectionSlowReadersIT {

    static final String CASE_METRICS = "1,000 slow /metrics readers";
    static final String CASE_EVENTS = "1,000 slow /v1/events readers";
    static final int READERS = 1_000;
    static final int PER_ADDRESS = 64;   // the default of gpu-agent.http.max-connections-per-address
    static final String ATTACKER = "127.0.0.2";
    static final double HEALTH_P99_LIMIT_MS = 100;
    static final Duration HOLD = Duration.ofSeconds(8);
    static final int CORDON_CALLS = 5_000;
    static final String OPERATOR = "slow-readers-operator-" + System.nanoTime();
    static final Pattern REFUSED = Pattern.compile("(?m)^gpu_agent_http_connections_refused_total ([0-9.]+)$");
    static final Pattern DIRECT = Pattern.compile("(?m)^jvm_buffer_memory_used_bytes\\{id=\"direct\"[^}]*} ([0-9.E+]+)$");

    @Test
    void healthStaysFastUnderSlowReadersOfLargeAnswers() throws Exception {
        Path token = PackagedAgent.writeCredential(Path.of("target", "it-agents").toAbsolutePath()
                .resolve("slow-readers-operator-" + System.nanoTime()), OPERATOR);
        try (PackagedAgent agent = PackagedAgent.named("fault-slow-readers").scenario("gpus = 64\n")
                .property("gpu-agent.auth.operator-token-file", token).start()) {
            agent.awaitScrape();
            agent.await(PackagedAgent.START, () -> assertEquals(200, agent.status("/health")));
            int events = fillByCordons(agent, OPERATOR, CORDON_CALLS);
            double[] control = FaultReport.latencies(agent, "/health", Duration.ofSeconds(3), 20,
                    r -> assertEquals(200, r.statusCode()));

            hold(agent, CASE_METRICS, "/metrics at 64 GPUs (" + agent.body("/metrics").length() / 1024 + " KiB)",
                    control, List.of(SlowReaders.get("/metrics")));
            hold(agent, CASE_EVENTS, "/v1/events?limit=10000 and ?limit=1000 after " + CORDON_CALLS
                    + " cordon/uncordon calls (" + events + " events)", control,
                    List.of(SlowReaders.get("/v1/events?limit=10000"), SlowReaders.get("/v1/events?limit=1000")));
        }
    }

    /** {@value #READERS} readers (the requests in turn) hang on while /health is probed from another address. */
    private static void hold(PackagedAgent agent, String faultCase, String what, double[] control, List<String> requests)
            throws Exception {
        double refusedBefore = refused(agent);
        AtomicLong directMax = new AtomicLong();
        try (SlowReaders readers = new SlowReaders()) {
            for (int i = 0; i < READERS; i++) {
                readers.add(1, ATTACKER, agent.port(), requests.get(i % requests.size()));
            }
            double[] sorted = FaultReport.latencies(agent, "/health", HOLD, 20, r -> {
                assertEquals(200, r.statusCode());
                directMax.accumulateAndGet(direct(agent), Math::max);
            });
            assertTrue(agent.isAlive(), "the agent is up");
            assertFalse(agent.log().contains("OutOfMemoryError"), "an OutOfMemoryError in the log:\n" + agent.log());
            double closed = refused(agent) - refusedBefore;
            boolean capped = FaultReport.row(faultCase, (long) closed + " of " + READERS + " readers from one address "
                    + "closed at accept; direct memory at most " + FaultReport.mib(directMax.get()) + "; no "
                    + "OutOfMemoryError, the agent alive", "at least " + (READERS - PER_ADDRESS) + " closed",
                    closed >= READERS - PER_ADDRESS);
            assertTrue(capped, "connections closed at accept: " + closed);
            double p99 = FaultReport.quantile(sorted, 0.99);
            boolean fast = FaultReport.latency(faultCase, "/health from 127.0.0.1 while " + READERS + " readers of "
                    + what + " from " + ATTACKER + " hang on for " + HOLD.toSeconds() + " s: " + FaultReport.summary(sorted),
                    p99, FaultReport.quantile(control, 0.99), HEALTH_P99_LIMIT_MS);
            assertTrue(fast, "/health p99 " + p99 + " ms");
        }
    }

    /**
     * {@code calls} cordon and uncordon calls in turn over the GPUs, from 8 clients: each makes two events.
     * Returns how many events the history holds afterwards (at most the 10,000 kept).
     */
    static int fillByCordons(PackagedAgent agent, String operator, int calls) throws Exception {
        int clients = 8;
        try (ExecutorService pool = Executors.newFixedThreadPool(clients)) {
            List<Future<?>> done = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                int client = c;
                done.add(pool.submit(() -> {
                    for (int i = client; i < calls; i += clients) {
                        String action = (i / clients) % 2 == 0 ? "cordon" : "uncordon";
                        HttpResponse<String> r = agent.send("POST", "/v1/gpus/" + client + "/" + action, operator,
                                "{\"reason\":\"filling the event history " + i + "\"}");
                        assertEquals(200, r.statusCode(), r.body());
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        }
        String newest = agent.body("/v1/events?limit=1");
        Matcher m = Pattern.compile("\"lastId\":(\\d+)").matcher(newest);
        assertTrue(m.find(), newest);
        return (int) Math.min(Long.parseLong(m.group(1)), 10_000);
    }

    private static double refused(PackagedAgent agent) {
        Matcher m = REFUSED.matcher(agent.body("/metrics"));
        assertTrue(m.find(), "no gpu_agent_http_connections_refused_total in /metrics");
        return Double.parseDouble(m.group(1));
    }

    /** Direct buffers in use (Micrometer's JVM meters at /q/metrics), in bytes; 0 when not published. */
    private static long direct(PackagedAgent agent) {
        HttpResponse<String> r = agent.get("/q/metrics");
        Matcher m = DIRECT.matcher(r.body());
        return m.find() ? (long) Double.parseDouble(m.group(1)) : 0;
    }
}
