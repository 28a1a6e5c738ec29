package io.gpuagent.agent.recovery;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * What gpu-agent-privileged.socket does under systemd (Accept=yes), for tests: listens on a unix socket and
 * runs the real program ({@code systemd/gpu-agent-privileged}) once per connection, its standard input and
 * output joined to the connection, with {@code GPU_AGENT_PRIVILEGED_NVIDIA_SMI} pointing at a stand-in. Records
 * every request line it passed on.
 */
final class AcceptSocket implements AutoCloseable {

    static final Path PROGRAM = Path.of("../systemd/gpu-agent-privileged").toAbsolutePath();

    private final Path path;
    private final ServerSocketChannel server;
    private final Map<String, String> environment;
    private final List<String> requests = new CopyOnWriteArrayList<>();

    private AcceptSocket(Path path, Map<String, String> environment) throws IOException {
        this.path = path;
        this.environment = environment;
        Files.createDirectories(path.getParent());
        Files.deleteIfExists(path);
        this.server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(path));
        Thread.ofPlatform().daemon(true).name("accept-socket").start(this::acceptLoop);
    }

    /** Listens on {@code path}; {@code nvidiaSmi} is the program the helper runs instead of nvidia-smi. */
    static AcceptSocket start(Path path, Path nvidiaSmi) throws IOException {
        return new AcceptSocket(path, Map.of("GPU_AGENT_PRIVILEGED_NVIDIA_SMI", nvidiaSmi.toAbsolutePath().toString()));
    }

    Path path() {
        return path;
    }

    /** The request lines received, oldest first. */
    List<String> requests() {
        return List.copyOf(requests);
    }

    private void acceptLoop() {
        while (server.isOpen()) {
            try {
                SocketChannel c = server.accept();
                Thread.ofVirtual().name("accept-socket-connection").start(() -> serve(c));
            } catch (IOException e) {
                return;   // closed
            }
        }
    }

    private void serve(SocketChannel c) {
        try (c) {
            ProcessBuilder pb = new ProcessBuilder("sh", PROGRAM.toString()).redirectError(ProcessBuilder.Redirect.INHERIT);
            pb.environment().putAll(environment);
            Process p = pb.start();
            Thread.ofVirtual().name("accept-socket-in").start(() -> pumpIn(c, p.getOutputStream()));
            try (InputStream out = p.getInputStream()) {
                byte[] buf = new byte[4096];
                for (int n; (n = out.read(buf)) >= 0; ) {
                    ByteBuffer b = ByteBuffer.wrap(buf, 0, n);
                    while (b.hasRemaining()) {
                        c.write(b);
                    }
                }
            }
            p.waitFor();
        } catch (IOException | InterruptedException e) {
            // the caller went away; the program ends by itself
        }
    }

    /** Connection to the program's standard input; the first line is recorded. */
    private void pumpIn(SocketChannel c, OutputStream in) {
        StringBuilder first = new StringBuilder();
        boolean recorded = false;
        ByteBuffer buf = ByteBuffer.allocate(4096);
        try (in) {
            while (c.read(buf) >= 0) {
                buf.flip();
                byte[] bytes = new byte[buf.remaining()];
                buf.get(bytes);
                buf.clear();
                if (!recorded) {
                    String s = new String(bytes, StandardCharsets.ISO_8859_1);
                    int nl = s.indexOf('\n');
                    first.append(nl < 0 ? s : s.substring(0, nl));
                    if (nl >= 0 || first.length() > 4096) {
                        requests.add(first.toString());
                        recorded = true;
                    }
                }
                in.write(bytes);
                in.flush();
            }
        } catch (IOException e) {
            // the program stopped reading (it reads one line), or the connection closed
        }
        if (!recorded && !first.isEmpty()) {
            requests.add(first.toString());
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        Files.deleteIfExists(path);
    }
}
