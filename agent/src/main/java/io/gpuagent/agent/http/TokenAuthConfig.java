package io.gpuagent.agent.http;

import io.smallrye.config.ConfigMapping;
import java.nio.file.Path;
import java.util.Optional;

/** {@code gpu-agent.auth.*}: how mutating endpoints are authenticated. docs/configuration.md documents it. */
@ConfigMapping(prefix = "gpu-agent.auth")
public interface TokenAuthConfig {

    /**
     * A file holding the bearer token that mutating endpoints require ({@code Authorization: Bearer <token>});
     * surrounding whitespace is ignored, and the file is read again whenever it changes. Keep it mode 0600,
     * owned by the agent's user. Absent: every mutating endpoint answers 403.
     */
    Optional<Path> tokenFile();
}
