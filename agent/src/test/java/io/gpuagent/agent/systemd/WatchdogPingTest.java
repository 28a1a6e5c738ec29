package io.gpuagent.agent.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * WATCHDOG=1 reaches a real notify socket after a sweep only while a real HTTP server answers the probe: none
 * while the server is wedged (it accepts, reads, and never answers, as with blocked event loops), again once
 * it answers, none without a sweep; over TCP loopback and over a unix domain socket, on one kept connection.
 */
class WatchdogPingTest {

    private static final Duration DEADLINE = Duration.ofMillis(500);

    @ParameterizedTest
    @ValueSource(strings = {"tcp", "unix"})
    void pingsOnlyWhileTheServerAnswers(String transport) throws Throwable {
        Path dir = Files.createTempDirectory("watchdog");
        SocketAddress bind = transport.equals("tcp") ? new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)
                : UnixDomainSocketAddress.of(dir.resolve("http.sock"));
        try (NotifyListener systemd = new NotifyListener(dir.resolve("notify").toString());
             NotifySocket socket = new NotifySocket(systemd.address());
             StallingHttpServer server = new StallingHttpServer(bind);
             WatchdogPing ping = new WatchdogPing(new HttpSelfProbe(server.address(), DEADLINE), m -> send(socket, m))) {
            for (int i = 0; i < 5; i++) {
                ping.swept();
                assertNotNull(systemd.next("WATCHDOG=1", Duration.ofSeconds(5)), "no WATCHDOG=1 after sweep " + i);
            }
            assertEquals(5, server.answered.get());
            assertEquals(1, server.connections.get(), "the probe keeps one connection");

            assertNull(systemd.next("WATCHDOG=1", Duration.ofMillis(700)), "WATCHDOG=1 without a sweep");

            server.wedged = true;
            for (int i = 0; i < 6; i++) {
                ping.swept();
                assertNull(systemd.next("WATCHDOG=1", Duration.ofMillis(400)), "WATCHDOG=1 while the server is wedged");
            }
            server.wedged = false;
            ping.swept();
            assertNotNull(systemd.next("WATCHDOG=1", Duration.ofSeconds(5)), "WATCHDOG=1 did not resume");
        } finally {
            Files.deleteIfExists(dir.resolve("http.sock"));
            Files.deleteIfExists(dir);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"0.0.0.0", "", "::", "[::]", "127.0.0.1", "::1", "10.1.2.3"})
    void probesTheLoopbackTwinOfTheBoundAddress(String host) {
        String expected = switch (host) {
            case "0.0.0.0", "" -> "127.0.0.1";
            case "::", "[::]" -> "::1";
            default -> host;
        };
        assertEquals(expected, HttpSelfProbe.loopbackFor(host));
        assertEquals(UnixDomainSocketAddress.of("/run/gpu-agent/http.sock"),
                HttpSelfProbe.target("/run/gpu-agent/http.sock", host, 9400));
    }

    private static void send(NotifySocket socket, String message) {
        try {
            socket.send(message);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Answers every request 200 with keep-alive; while wedged it reads requests and answers none. */
    static final class StallingHttpServer implements AutoCloseable {
        final AtomicInteger connections = new AtomicInteger();
        final AtomicInteger answered = new AtomicInteger();
        volatile boolean wedged;
        private final ServerSocketChannel server;
        private volatile boolean open = true;

        StallingHttpServer(SocketAddress bind) throws IOException {
            server = bind instanceof UnixDomainSocketAddress ? ServerSocketChannel.open(StandardProtocolFamily.UNIX)
                    : ServerSocketChannel.open();
            server.bind(bind);
            Thread.ofPlatform().daemon().name("stalling-http-accept").start(this::accept);
        }

        SocketAddress address() throws IOException {
            return server.getLocalAddress();
        }

        private void accept() {
            while (open) {
                try {
                    SocketChannel c = server.accept();
                    connections.incrementAndGet();
                    Thread.ofPlatform().daemon().name("stalling-http").start(() -> serve(c));
                } catch (IOException e) {
                    return;   // closed
                }
            }
        }

        private void serve(SocketChannel c) {
            try (c) {
                ByteBuffer in = ByteBuffer.allocate(8192);
                StringBuilder seen = new StringBuilder();
                while (open) {
                    in.clear();
                    if (c.read(in) < 0) {
                        return;
                    }
                    seen.append(new String(in.array(), 0, in.position(), StandardCharsets.ISO_8859_1));
                    int end;
                    while ((end = seen.indexOf("\r\n\r\n")) >= 0) {
                        seen.delete(0, end + 4);
                        while (wedged && open) {
                            Thread.sleep(10);
                        }
                        answered.incrementAndGet();   // before the answer: the probe may ping as soon as it is read
                        c.write(ByteBuffer.wrap("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n{\"status\":\"UP\"}"
                                .getBytes(StandardCharsets.US_ASCII)));
                    }
                }
            } catch (IOException | InterruptedException e) {
                // the probe closed its side
            }
        }

        @Override
        public void close() throws IOException {
            open = false;
            server.close();
        }
    }
}
