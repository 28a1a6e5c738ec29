package io.gpuagent.agent.recovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.gpuagent.agent.journal.AgentEvent;
import io.gpuagent.agent.journal.EventLog;
import io.gpuagent.nvml.fake.FakeNvml;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 11 finding 6: webhook URLs (Slack and Teams keep the secret in them) never reach /metrics or the log,
 * a failure says why (never "(null)"), and a dead receiver delays no other. A {@code @QuarkusTest} because
 * SmallRye Fault Tolerance's programmatic guards need its runtime; the Notifier under test is its own.
 */
@QuarkusTest
class NotifierTest {

    static final String SECRET = "T000/B000/XXXXSECRETXXXX";
    static final int EVENTS = 5;

    @TempDir
    Path dir;

    @Inject
    ObjectMapper mapper;

    @Test
    void receiversAreShownByIndexAndHostAndADeadOneDelaysNoOther() throws Exception {
        AtomicInteger live = new AtomicInteger();
        AtomicInteger dead = new AtomicInteger();
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/dead/", x -> {
            dead.incrementAndGet();
            x.sendResponseHeaders(500, -1);
            x.close();
        });
        server.createContext("/live/", x -> {
            live.incrementAndGet();
            x.sendResponseHeaders(204, -1);
            x.close();
        });
        server.start();
        String base = "http://127.0.0.1:" + server.getAddress().getPort();
        List<URI> urls = List.of(URI.create(base + "/dead/" + SECRET), URI.create(base + "/live/" + SECRET + "?token=" + SECRET));
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        // The dead receiver retries for up to a minute per event: long enough to hold up anything that waited on it.
        Notifier notifier = null;
        try (EventLog events = new EventLog(dir, 100, new ObjectMapper())) {
            notifier = new Notifier(urls, events, new Webhook(), mapper, registry, label -> Webhook.guard(label,
                    100, Duration.ofMillis(50), Duration.ofMillis(200), Duration.ofMinutes(1), 4, Duration.ofMinutes(1)));
            for (int i = 0; i < EVENTS; i++) {
                events.append(AgentEvent.of(1, "GPU-1", AgentEvent.ACTION, "recovery", "cordon:succeeded", "event " + i));
            }
            FakeNvml.eventually(Duration.ofSeconds(10), () -> assertEquals(EVENTS, live.get(), "the live receiver got every event"));
            assertTrue(dead.get() > 0, "the dead receiver was tried");

            Set<String> labels = registry.getMeters().stream().map(Meter::getId)
                    .filter(id -> id.getName().equals(Notifier.NOTIFICATIONS)).map(id -> id.getTag("url"))
                    .collect(Collectors.toSet());
            assertEquals(Set.of("0:127.0.0.1", "1:127.0.0.1"), labels);
            assertFalse(registry.getMeters().stream().anyMatch(m -> m.getId().toString().contains(SECRET)));
        } finally {
            if (notifier != null) {
                notifier.stop(null);
            }
            server.stop(0);
        }
    }

    /**
     * A 4xx other than 408/429 is the request's fault (a deleted webhook, a revoked secret): one attempt per
     * event, logged once with the status and the receiver by index and host. 408, 429 and 5xx are retried.
     */
    @Test
    void aRefusalIsNotRetriedAndLoggedOnceWhileBusyAndFailingReceiversAreRetried() throws Exception {
        Map<String, AtomicInteger> attempts = new ConcurrentHashMap<>();
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        // Each answers its status to the first attempt of every event, then 204 to a retry.
        for (int status : new int[] {404, 403, 408, 429, 503}) {
            server.createContext("/" + status + "/", x -> {
                String event = new String(x.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
                int n = attempts.computeIfAbsent(status + " " + event, k -> new AtomicInteger()).incrementAndGet();
                attempts.computeIfAbsent(Integer.toString(status), k -> new AtomicInteger()).incrementAndGet();
                x.sendResponseHeaders(n == 1 ? status : 204, -1);
                x.close();
            });
        }
        server.start();
        String base = "http://127.0.0.1:" + server.getAddress().getPort();
        List<URI> urls = List.of(URI.create(base + "/404/" + SECRET), URI.create(base + "/403/" + SECRET),
                URI.create(base + "/408/" + SECRET), URI.create(base + "/429/" + SECRET), URI.create(base + "/503/" + SECRET));
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        List<LogRecord> logged = new CopyOnWriteArrayList<>();
        Handler handler = new Handler() {
            @Override
            public void publish(LogRecord r) {
                logged.add(r);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        java.util.logging.Logger log = java.util.logging.Logger.getLogger(Notifier.class.getName());
        log.addHandler(handler);
        Notifier notifier = null;
        try (EventLog events = new EventLog(dir, 100, new ObjectMapper())) {
            notifier = new Notifier(urls, events, new Webhook(), mapper, registry, label -> Webhook.guard(label,
                    100, Duration.ofMillis(20), Duration.ofMillis(50), Duration.ofMinutes(1), 100, Duration.ofMinutes(1)));
            for (int i = 0; i < EVENTS; i++) {
                events.append(AgentEvent.of(1, "GPU-1", AgentEvent.ACTION, "recovery", "cordon:succeeded", "event " + i));
            }
            FakeNvml.eventually(Duration.ofSeconds(20), () -> {
                assertEquals(EVENTS, count(registry, "0:127.0.0.1", "failed"), "404: every event failed");
                assertEquals(EVENTS, count(registry, "1:127.0.0.1", "failed"), "403: every event failed");
                for (String retried : List.of("2:127.0.0.1", "3:127.0.0.1", "4:127.0.0.1")) {
                    assertEquals(EVENTS, count(registry, retried, "delivered"), retried + ": delivered on the retry");
                }
            });
            // Counted after the failure was: a retry would have come before it.
            assertEquals(EVENTS, attempts.get("404").get(), "one attempt per event to a receiver that answers 404");
            assertEquals(EVENTS, attempts.get("403").get(), "one attempt per event to a receiver that answers 403");
            for (String retried : List.of("408", "429", "503")) {
                assertEquals(2 * EVENTS, attempts.get(retried).get(), retried + " is retried");
            }
            List<String> refusals = logged.stream().filter(r -> r.getLevel().intValue() >= Level.WARNING.intValue())
                    .map(r -> formatted(r)).toList();
            assertEquals(1, refusals.stream().filter(m -> m.contains("webhook 0:127.0.0.1 refused")).count(), refusals.toString());
            assertEquals(1, refusals.stream().filter(m -> m.contains("webhook 1:127.0.0.1 refused")).count(), refusals.toString());
            String first = refusals.stream().filter(m -> m.contains("webhook 0:127.0.0.1")).findFirst().orElseThrow();
            assertTrue(first.contains("404") && first.contains("entry 0 of gpu-agent.recovery.notify-urls"), first);
            assertFalse(logged.stream().anyMatch(r -> formatted(r).contains(SECRET)), "no URL in the log");
        } finally {
            log.removeHandler(handler);
            if (notifier != null) {
                notifier.stop(null);
            }
            server.stop(0);
        }
    }

    private static double count(SimpleMeterRegistry registry, String url, String result) {
        return registry.get(Notifier.NOTIFICATIONS).tag("url", url).tag("result", result).counter().count();
    }

    /** The message as the log shows it (JBoss Logging's printf style, or JUL's {0} style). */
    private static String formatted(LogRecord r) {
        String m = String.valueOf(r.getMessage());
        Object[] p = r.getParameters();
        if (p == null || p.length == 0) {
            return m;
        }
        try {
            return String.format(m, p);
        } catch (java.util.IllegalFormatException e) {
            return java.text.MessageFormat.format(m, p);
        }
    }

    @Test
    void aFailureSaysWhyEvenWithoutAMessage() {
        String why = Notifier.cause(new RuntimeException(new ConnectException()));
        assertFalse(why.contains("null"), why);
        assertTrue(why.contains("ConnectException"), why);
    }
}
