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

    /** {@code Bearer <token>}. */
    public static String header() {
        return "Bearer " + get();
    }
}
