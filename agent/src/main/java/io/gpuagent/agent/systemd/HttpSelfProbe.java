package io.gpuagent.agent.systemd;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;

/**
 * One {@code GET /q/health/live} to the agent's own HTTP server, answered (2xx or 3xx) within a deadline: the proof, for
 * the systemd watchdog, that the server still accepts, reads and answers (its event loops are not blocked, its
 * acceptor not stalled). Over the unix domain socket when the server has one, else plain HTTP to a loopback
 * address (or to the one address of this host the server is bound to); never off the host.
 *
 * <p>The connection is kept open between probes (HTTP/1.1 keep-alive), so the probe takes one connection slot
 * from one address (127.0.0.1 or ::1), whatever per-address connection cap the server enforces; it is closed
 * and opened again only after a failed probe, whose state is unknown. Not thread-safe: one caller, one probe at
 * a time (the watchdog's own thread). Non-blocking I/O under a selector so that the deadline covers the
 * connect, the write and the whole answer.
 */
final class HttpSelfProbe implements AutoCloseable {

    static final String PATH = "/q/health/live";
    /** The largest answer read; a liveness answer is some 50 bytes. */
    private static final int MAX_ANSWER = 16 * 1024;

    private final SocketAddress target;
    private final Duration deadline;
    private final byte[] request;
    private SocketChannel channel;
    private Selector selector;
    private String lastFailure = "";

    HttpSelfProbe(SocketAddress target, Duration deadline) {
        this.target = target;
        this.deadline = deadline;
        String host = target instanceof InetSocketAddress a
                ? (a.getAddress().getHostAddress().contains(":") ? "[" + a.getAddress().getHostAddress() + "]" : a.getAddress().getHostAddress()) + ":" + a.getPort()
                : "localhost";
        this.request = ("GET " + PATH + " HTTP/1.1\r\nHost: " + host + "\r\nAccept: application/json\r\n"
                + "User-Agent: gpu-agent-watchdog\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    /** Where the probe goes: the domain socket when there is one, else the loopback twin of the bound address. */
    static SocketAddress target(String domainSocket, String host, int port) {
        if (domainSocket != null) {
            return UnixDomainSocketAddress.of(domainSocket);
        }
        return new InetSocketAddress(loopbackFor(host), port);
    }

    /**
     * 0.0.0.0 or no host: 127.0.0.1; :: (every v6 address, and v4 too where dual-stack): ::1; any other address is
     * one of this host's own and is connected to as it is (the kernel delivers that locally, never on the wire; a
     * name is looked up once, at start, as the server did to bind it).
     */
    static String loopbackFor(String host) {
        if (host == null || host.isBlank() || host.equals("0.0.0.0") || host.equalsIgnoreCase("localhost")) {
            return "127.0.0.1";
        }
        String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        if (h.equals("::") || h.equals("0:0:0:0:0:0:0:0")) {
            return "::1";
        }
        return h;
    }

    SocketAddress target() {
        return target;
    }

    /** Why the last probe failed ("" after a success). */
    String lastFailure() {
        return lastFailure;
    }

    /** True when the server answered 2xx or 3xx within the deadline. */
    boolean probe() {
        long end = System.nanoTime() + deadline.toNanos();
        try {
            if (channel == null) {
                open();
            }
            if (!channel.isConnected()) {
                await(SelectionKey.OP_CONNECT, end, "connect");
                if (!channel.finishConnect()) {
                    throw new IOException("connect did not complete");
                }
            }
            ByteBuffer out = ByteBuffer.wrap(request);
            while (out.hasRemaining()) {
                if (channel.write(out) == 0) {
                    await(SelectionKey.OP_WRITE, end, "write");
                }
            }
            int status = readAnswer(end);
            // 2xx, or 3xx where plain HTTP only redirects to HTTPS (quarkus.http.insecure-requests=redirect): the
            // server read the request and answered. A 5xx is a server that cannot serve (workers exhausted).
            if (status < 200 || status >= 400) {
                throw new IOException(PATH + " answered " + status);
            }
            lastFailure = "";
            return true;
        } catch (IOException | RuntimeException e) {
            lastFailure = e.getMessage() == null ? e.toString() : e.getMessage();
            close();
            return false;
        }
    }

    private void open() throws IOException {
        channel = target instanceof UnixDomainSocketAddress ? SocketChannel.open(StandardProtocolFamily.UNIX)
                : SocketChannel.open();
        channel.configureBlocking(false);
        selector = Selector.open();
        channel.connect(target);
    }

    /** Reads one answer (headers, then a Content-Length or chunked body, so the connection can be reused). */
    private int readAnswer(long end) throws IOException {
        ByteBuffer in = ByteBuffer.allocate(MAX_ANSWER);
        int headerEnd;
        while ((headerEnd = indexOf(in, "\r\n\r\n")) < 0) {
            fill(in, end);
        }
        String head = new String(in.array(), 0, headerEnd, StandardCharsets.ISO_8859_1);
        String[] lines = head.split("\r\n");
        String[] statusLine = lines[0].split(" ", 3);
        if (statusLine.length < 2 || !statusLine[0].startsWith("HTTP/1.")) {
            throw new IOException("not an HTTP answer: " + lines[0]);
        }
        int status = Integer.parseInt(statusLine[1]);
        long length = -1;
        boolean chunked = false;
        boolean close = false;
        for (int i = 1; i < lines.length; i++) {
            String l = lines[i].toLowerCase(Locale.ROOT);
            if (l.startsWith("content-length:")) {
                length = Long.parseLong(l.substring(15).strip());
            } else if (l.startsWith("transfer-encoding:") && l.contains("chunked")) {
                chunked = true;
            } else if (l.startsWith("connection:") && l.contains("close")) {
                close = true;
            }
        }
        int bodyStart = headerEnd + 4;
        if (chunked) {
            while (indexOf(in, "\r\n0\r\n\r\n", bodyStart - 2) < 0) {
                fill(in, end);
            }
        } else if (length >= 0) {
            while (in.position() - bodyStart < length) {
                fill(in, end);
            }
        } else {
            close = true;   // the body runs to the end of the connection: not reusable
        }
        if (close) {
            close();
        }
        return status;
    }

    private void fill(ByteBuffer in, long end) throws IOException {
        if (!in.hasRemaining()) {
            throw new IOException("answer longer than " + MAX_ANSWER + " bytes");
        }
        int n = channel.read(in);
        if (n < 0) {
            throw new IOException("connection closed by the server");
        }
        if (n == 0) {
            await(SelectionKey.OP_READ, end, "answer");
        }
    }

    private void await(int op, long end, String what) throws IOException {
        SelectionKey key = channel.register(selector, op);
        try {
            long left = end - System.nanoTime();
            if (left <= 0 || selector.select(Math.max(1, left / 1_000_000)) == 0) {
                throw new IOException("no " + what + " within " + deadline.toMillis() + " ms");
            }
            selector.selectedKeys().clear();
        } finally {
            key.interestOps(0);
        }
    }

    private static int indexOf(ByteBuffer in, String s) {
        return indexOf(in, s, 0);
    }

    private static int indexOf(ByteBuffer in, String s, int from) {
        byte[] a = in.array();
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        outer:
        for (int i = Math.max(0, from); i <= in.position() - b.length; i++) {
            for (int j = 0; j < b.length; j++) {
                if (a[i + j] != b[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    @Override
    public void close() {
        try {
            if (selector != null) {
                selector.close();
            }
            if (channel != null) {
                channel.close();
            }
        } catch (IOException e) {
            // Closing a socket we no longer trust; nothing else to do.
        }
        selector = null;
        channel = null;
    }
}
