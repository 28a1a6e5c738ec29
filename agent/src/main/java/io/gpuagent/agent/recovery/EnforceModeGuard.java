package io.gpuagent.agent.recovery;

import io.gpuagent.agent.auth.TokenAuth;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Refuses to start in enforce mode without a private token file (an agent that resets GPUs by itself must
 * not also take reset requests from anyone who can read a world-readable token), or without the privileges,
 * commands and privileged helper socket its policy will need ({@link PrivilegeCheck}).
 */
@ApplicationScoped
public class EnforceModeGuard {

    private final RecoveryConfig config;
    private final TokenAuth auth;

    public EnforceModeGuard(RecoveryConfig config, TokenAuth auth) {
        this.config = config;
        this.auth = auth;
    }

    void check(@Observes @Priority(1) StartupEvent event) {
        problem(config.mode(), auth).ifPresent(p -> {
            throw new IllegalStateException(p);
        });
        if (config.mode() == RecoveryMode.ENFORCE && config.privilegeCheck()) {
            List<String> missing = PrivilegeCheck.missing(config, Privilege.effectiveCapabilities(), PrivilegeCheck::onPath);
            if (!missing.isEmpty()) {
                throw new IllegalStateException("refusing to start with gpu-agent.recovery.mode=enforce: "
                        + String.join("; and ", missing));
            }
        }
    }

    /** Why the agent must not start, or empty when it may. */
    static Optional<String> problem(RecoveryMode mode, TokenAuth auth) {
        if (mode != RecoveryMode.ENFORCE) {
            return Optional.empty();
        }
        String refuse = "refusing to start with gpu-agent.recovery.mode=enforce: ";
        if (auth.tokenFile().isEmpty()) {
            return Optional.of(refuse + "no operator credential is set (gpu-agent.auth.operator-token-file, or the old "
                    + "gpu-agent.auth.token-file); write a token to a file only the agent's user can read (chmod 600) "
                    + "and set the key to its path, or use mode=observe");
        }
        Path file = auth.tokenFile().get();
        if (!Files.isRegularFile(file)) {
            return Optional.of(refuse + "the operator token file " + file + " does not exist; "
                    + "create it with a token, mode 0600");
        }
        return auth.permissionProblem().map(p -> refuse + p);
    }
}
