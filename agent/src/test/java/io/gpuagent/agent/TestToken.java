package io.gpuagent.agent;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.UUID;

/**
 * The bearer token of this test JVM: {@code %test.gpu-agent.auth.token-file} (target/test-token). Written once
 * (mode 0600) when missing and read on every use, so every test class agrees with the agent, which re-reads a
 * changed token file. Tests get the token here and never write that file themselves.
 */
public final class TestToken {

    public static final Path FILE = Path.of("target/test-token");

    private TestToken() {
    }

    /** The token in the file, writing one first when there is none. */
    public static synchronized String get() {
        try {
            if (Files.isRegularFile(FILE)) {
                String t = Files.readString(FILE).strip();
                if (!t.isEmpty()) {
                    return t;
                }
            }
            String t = "test-" + UUID.randomUUID();
            Path dir = FILE.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, "token", ".tmp",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(tmp, t + "\n");
            Files.move(tmp, FILE, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return t;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The coordinator's node and per-agent credential directories under test (application.properties). */
    public static final Path NODE_DIR = Path.of("target/test-node-tokens");
    public static final Path COORDINATOR_DIR = Path.of("target/test-coordinator-tokens");

    /**
     * Makes this test JVM's token the credential of {@code node} at a coordinator under test: its heartbeat
     * credential ({@code node-token-dir}) and what the coordinator sends its agent ({@code coordinator-token-dir}).
     */
    public static synchronized void forNode(String node) {
        String t = get();
        try {
            for (Path dir : new Path[] {NODE_DIR, COORDINATOR_DIR}) {
                Files.createDirectories(dir);
                Path file = dir.resolve(node);
                if (!Files.isRegularFile(file)) {
                    Path tmp = Files.createTempFile(dir, ".token", ".tmp",
                            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                    Files.writeString(tmp, t + "\n");
                    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code Bearer <token>}. */
    public static String header() {
        return "Bearer " + get();
    }
}
