package io.gpuagent.agent.events;

import io.gpuagent.agent.http.EventStreamRoute;
import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.agent.journal.AgentEvent;
import io.gpuagent.agent.journal.EventLog;
import io.gpuagent.nvml.fake.FakeNvml;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 11 finding 3: unauthenticated stream readers that never read must not take the agent down. The test
 * profile caps the stream at {@code gpu-agent.events.max-subscribers} clients and {@code max-behind} events
 * (application.properties, %test).
 */
@QuarkusTest
class EventStreamBoundsTest {

    /**
     * What "answering fast" means here: below the Slurm health check's timeout with room to spare, and above
     * what a loaded two-core CI machine needs for one request (the fault-injection suite measures the p99).
     */
    static final Duration HEALTH_FAST = Duration.ofSeconds(2);

    @Inject
    EventsConfig config;

    @Inject
    EventStreamRoute route;

    @Inject
    EventLog log;

    @TestHTTPResource("/v1/events/stream")
    URI stream;

    private final List<Socket> readers = new ArrayList<>();

    @AfterEach
    void closeReaders() throws Exception {
        for (Socket s : readers) {
            s.close();
        }
        FakeNvml.eventually(Duration.ofSeconds(10), () -> assertEquals(0, route.clients()));
    }

    @Test
    void slowReadersAreCappedCutOffWithAReasonAndHealthStaysFast() throws Exception {
        // Warm (the first request loads the client's classes), and wait for the first sweep on a loaded machine.
        FakeNvml.eventually(Duration.ofSeconds(20), () -> given().get("/health").then().statusCode(200));
        int max = config.maxSubscribers();
        for (int i = 0; i < max; i++) {
            readers.add(slowReader());
        }
        FakeNvml.eventually(Duration.ofSeconds(10), () -> assertEquals(max, route.clients()));

        HttpResponse<String> refused = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(stream).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(503, refused.statusCode(), refused.body());
        assertTrue(refused.headers().firstValue("Content-Type").orElse("").startsWith("application/problem+json"));
        assertTrue(refused.body().contains("gpu-agent.events.max-subscribers"), refused.body());

        // Events big enough to fill the readers' buffers, and more than max-behind of them.
        String filler = "x".repeat(2048);
        for (int batch = 0; route.clients() > 0 && batch < 50; batch++) {
            List<AgentEvent> events = new ArrayList<>();
            for (int i = 0; i < config.maxBehind() / 4; i++) {
                events.add(AgentEvent.of(null, null, "test", "bounds-test", "FILLER", filler));
            }
            log.appendAll(events);
            assertHealthFast();
        }
        FakeNvml.eventually(Duration.ofSeconds(10), () -> assertEquals(0, route.clients(), "every slow reader cut off"));

        String tail = readToEnd(readers.getFirst());
        assertTrue(tail.contains(": cut off: ") && tail.contains("gpu-agent.events.max-behind"),
                tail.substring(Math.max(0, tail.length() - 300)));

        // The slots are free again.
        try (SseClient again = SseClient.open(stream, null)) {
            assertEquals(200, again.status());
        }
    }

    private void assertHealthFast() {
        long start = System.nanoTime();
        given().get("/health").then().statusCode(200);
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertTrue(took.compareTo(HEALTH_FAST) < 0, "/health took " + took);
    }

    /** Asks for the whole history and never reads: the smallest receive buffer the OS allows. */
    private Socket slowReader() throws Exception {
        Socket s = new Socket();
        s.setReceiveBufferSize(1024);
        s.connect(new InetSocketAddress(stream.getHost(), stream.getPort()), 2000);
        OutputStream out = s.getOutputStream();
        out.write(("GET " + stream.getPath() + " HTTP/1.1\r\nHost: " + stream.getHost() + "\r\nLast-Event-ID: 0\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        out.flush();
        return s;
    }

    private static String readToEnd(Socket s) throws Exception {
        s.setSoTimeout(10_000);
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        InputStream in = s.getInputStream();
        byte[] buf = new byte[64 * 1024];
        try {
            for (int n; (n = in.read(buf)) > 0; ) {
                all.write(buf, 0, n);
            }
        } catch (SocketTimeoutException e) {
            // the connection stayed open: the assertion on the tail says what arrived
        }
        return all.toString(StandardCharsets.UTF_8);
    }
}
