package io.gpuagent.agent;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.UUID;

/**
 * The bearer token of this test JVM: {@code %test.gpu-agent.auth.token-file} (target/test-token), written once
 * (mode 0600) and shared by every test class. Tests must not write that file themselves: the agent re-reads a
 * changed token file, so a second writer would turn the first one's requests into 403s.
 */
public final class TestToken {

    public static final Path FILE = Path.of("target/test-token");
    private static String token;

    private TestToken() {
    }

    /** Writes the token file once per JVM and returns the token. */
    public static synchronized String get() {
        if (token == null) {
            String t = "test-" + UUID.randomUUID();
            try {
                Path dir = FILE.toAbsolutePath().getParent();
                Files.createDirectories(dir);
                Path tmp = Files.createTempFile(dir, "token", ".tmp",
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                Files.writeString(tmp, t + "\n");
                Files.move(tmp, FILE, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            token = t;
        }
        return token;
    }

    /** {@code Bearer <token>}. */
    public static String header() {
        return "Bearer " + get();
    }
}
