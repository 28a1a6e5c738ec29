package io.gpuagent.agent.coordinator;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.UUID;

/**
 * The bearer token in {@code %test.gpu-agent.auth.token-file}. Other test classes in the same JVM may write
 * their own token into the file, so it is read on every use and only written when missing.
 */
final class TestToken {

    static final Path FILE = Path.of("target/test-token");

    private TestToken() {
    }

    static synchronized String get() {
        try {
            if (Files.isRegularFile(FILE)) {
                String t = Files.readString(FILE, StandardCharsets.UTF_8).strip();
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
}
