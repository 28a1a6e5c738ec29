package io.gpuagent.agent.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 19: the coordinator's calls to agents end at the deadline even when the peer sent its headers at
 * once and then trickles its body (the JDK's request timeout stops at the headers), and take in no more than
 * the cap of a body that never ends. A local server plays the peer. Without the bound the trickle would hold
 * the call until the JUnit timeout fails the test.
 */
@Timeout(60)
class BoundedCallTest {

    private final AtomicBoolean running = new AtomicBoolean(true);
    private ServerSocket server;

    @AfterEach
    void stop() throws IOException {
        running.set(false);
        if (server != null) {
            server.close();
        }
    }

    /** A peer that answers 200 with these headers and then calls {@code body} on the socket. */
    private URI peer(String headers, BodyWriter body) throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofPlatform().daemon().start(() -> {
            while (running.get()) {
                try (Socket s = server.accept()) {
                    s.getInputStream().read(new byte[8192]);   // the request; its content does not matter
                    OutputStream out = s.getOutputStream();
                    out.write(("HTTP/1.1 200 OK\r\n" + headers + "\r\n").getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    body.write(out);
                } catch (IOException | InterruptedException e) {
                    // the client gave up: that is the point
                }
            }
        });
        return URI.create("http://127.0.0.1:" + server.getLocalPort() + "/v1/leases");
    }

    interface BodyWriter {
        void write(OutputStream out) throws IOException, InterruptedException;
    }

    @Test
    void aTricklingBodyEndsAtTheDeadline() throws Exception {
        URI uri = peer("Content-Length: 1000000\r\n", out -> {
            while (running.get()) {
                out.write('{');
                out.flush();
                Thread.sleep(100);
            }
        });
        BoundedCall call = new BoundedCall(HttpClient.newHttpClient(), Duration.ofMillis(800));
        long start = System.nanoTime();
        IOException e = assertThrows(IOException.class, () -> call.send(HttpRequest.newBuilder(uri)
                .timeout(Duration.ofMillis(800)).GET().build()));
        assertTrue(e.getMessage().contains("no whole answer within 800 ms"), e.getMessage());
        // Not a timing target: only proof that the deadline, not the peer, ended the call.
        assertTrue(System.nanoTime() - start < Duration.ofSeconds(30).toNanos());
    }

    @Test
    void anEndlessBodyIsCutAtTheCap() throws Exception {
        byte[] chunk = new byte[16 * 1024];
        java.util.Arrays.fill(chunk, (byte) 'x');
        URI uri = peer("Transfer-Encoding: chunked\r\n", out -> {
            while (running.get()) {
                out.write((Integer.toHexString(chunk.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                out.write(chunk);
                out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
            }
        });
        BoundedCall call = new BoundedCall(HttpClient.newHttpClient(), Duration.ofSeconds(20));
        IOException e = assertThrows(IOException.class, () -> call.send(HttpRequest.newBuilder(uri).GET().build()));
        assertTrue(e.getMessage().contains("larger than " + BoundedCall.MAX_BODY + " bytes"), e.getMessage());
    }

    @Test
    void aWholeSmallAnswerIsReturned() throws Exception {
        URI uri = peer("Content-Length: 2\r\n", out -> out.write("{}".getBytes(StandardCharsets.US_ASCII)));
        BoundedCall.Answer a = new BoundedCall(HttpClient.newHttpClient(), Duration.ofSeconds(20))
                .send(HttpRequest.newBuilder(uri).GET().build());
        assertEquals(200, a.statusCode());
        assertEquals("{}", a.body());
    }
}
