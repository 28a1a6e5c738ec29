package io.gpuagent.agent.recovery;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.agent.auth.AuthSettings;
import io.gpuagent.agent.auth.TokenAuth;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Enforce mode refuses to start unless the token file exists and only the agent's user can read it. */
class EnforceModeGuardTest {

    @TempDir
    Path dir;

    @Test
    void enforceNeedsAPrivateTokenFile() throws Exception {
        Path file = dir.resolve("token");
        assertTrue(problem(RecoveryMode.ENFORCE, null).orElseThrow().contains("no operator credential is set"));
        assertTrue(problem(RecoveryMode.ENFORCE, file).orElseThrow().contains("does not exist"));
        Files.writeString(file, "t");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        String open = problem(RecoveryMode.ENFORCE, file).orElseThrow();
        assertTrue(open.contains("refusing to start") && open.contains("chmod 600"), open);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        assertTrue(problem(RecoveryMode.ENFORCE, file).isEmpty());
    }

    @Test
    void observeModeStartsEitherWay() {
        assertTrue(problem(RecoveryMode.OBSERVE, null).isEmpty());
        assertTrue(problem(RecoveryMode.OBSERVE, dir.resolve("missing")).isEmpty());
    }

    private static Optional<String> problem(RecoveryMode mode, Path file) {
        return EnforceModeGuard.problem(mode, new TokenAuth(AuthSettings.legacy(file)));
    }
}
