package io.gpuagent.agent.faults;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Clients that send one request and never read a byte of the answer: a 4 KiB receive buffer set before connecting,
 * so the agent's writes back up at once. Each socket is bound to {@code from} (a loopback address of its own, such
 * as 127.0.0.2), so that the agent's per-address connection cap sees them as one client and the probes of the
 * test, from 127.0.0.1, as another. {@link #close} closes every socket.
 */
final class SlowReaders implements AutoCloseable {

    private final List<Socket> sockets = new ArrayList<>();
    private int refused;

    /** Opens {@code count} readers of {@code request} (a whole HTTP/1.1 request) from {@code from}. */
    static SlowReaders open(int count, String from, int port, String request) {
        SlowReaders readers = new SlowReaders();
        readers.add(count, from, port, request);
        return readers;
    }

    /** {@code count} more readers from {@code from}. */
    void add(int count, String from, int port, String request) {
        byte[] bytes = request.getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < count; i++) {
            Socket s = new Socket();
            sockets.add(s);   // closed by close() whatever happens next
            try {
                s.setReceiveBufferSize(4096);
                s.bind(new InetSocketAddress(from, 0));
                s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
                s.getOutputStream().write(bytes);
                s.getOutputStream().flush();
            } catch (IOException e) {
                refused++;   // the agent closed it at accept (the cap): what it is there for
            }
        }
    }

    /** Readers whose connect or request failed (the agent closed them before they were sent). */
    int refused() {
        return refused;
    }

    static String get(String pathAndQuery, String... headers) {
        StringBuilder r = new StringBuilder("GET ").append(pathAndQuery).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        for (String h : headers) {
            r.append(h).append("\r\n");
        }
        return r.append("\r\n").toString();
    }

    @Override
    public void close() {
        for (Socket s : sockets) {
            try {
                s.close();
            } catch (IOException e) {
                // closing is all we want
            }
        }
        sockets.clear();
    }
}
