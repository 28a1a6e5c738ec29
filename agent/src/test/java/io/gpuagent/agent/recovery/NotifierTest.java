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
import java.util.List;
import java.util.Set;
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

    @Test
    void aFailureSaysWhyEvenWithoutAMessage() {
        String why = Notifier.cause(new RuntimeException(new ConnectException()));
        assertFalse(why.contains("null"), why);
        assertTrue(why.contains("ConnectException"), why);
    }
}
