package io.gpuagent.agent.auth;

import java.nio.file.Path;
import java.util.Optional;

/** {@link TokenAuthConfig} for tests that build {@link TokenAuth} by hand; null means not set. */
public record AuthSettings(Path legacyFile, Path operator, Path scheduler, Path coordinator, Path reader, Path nodeOut,
                           Path nodeDir, boolean readers) implements TokenAuthConfig {

    /** Only the old single token. */
    public static AuthSettings legacy(Path tokenFile) {
        return new AuthSettings(tokenFile, null, null, null, null, null, null, false);
    }

    @Override
    public Optional<Path> tokenFile() {
        return Optional.ofNullable(legacyFile);
    }

    @Override
    public Optional<Path> operatorTokenFile() {
        return Optional.ofNullable(operator);
    }

    @Override
    public Optional<Path> schedulerTokenFile() {
        return Optional.ofNullable(scheduler);
    }

    @Override
    public Optional<Path> coordinatorTokenFile() {
        return Optional.ofNullable(coordinator);
    }

    @Override
    public Optional<Path> readerTokenFile() {
        return Optional.ofNullable(reader);
    }

    @Override
    public Optional<Path> nodeTokenFile() {
        return Optional.ofNullable(nodeOut);
    }

    @Override
    public Optional<Path> nodeTokenDir() {
        return Optional.ofNullable(nodeDir);
    }

    /** Tests of the coordinator's per-node credentials build {@link CoordinatorCredentials} directly. */
    @Override
    public Optional<Path> coordinatorTokenDir() {
        return Optional.empty();
    }

    @Override
    public boolean readersRequireToken() {
        return readers;
    }
}
