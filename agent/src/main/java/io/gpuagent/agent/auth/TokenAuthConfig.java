package io.gpuagent.agent.auth;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.nio.file.Path;
import java.util.Optional;

/**
 * {@code gpu-agent.auth.*}: one credential per role ({@link AccessRole}, docs/security.md), each a file
 * (mode 0600) holding a bearer token. docs/configuration.md documents them.
 */
@ConfigMapping(prefix = "gpu-agent.auth")
public interface TokenAuthConfig {

    /**
     * The old single token: grants every role (operator, scheduler, coordinator, node under any name) whose own
     * credential is not configured, and is what this process sends when its own outgoing credential is not set.
     * Kept so existing deployments work; the agent warns at start and says how to split it.
     */
    Optional<Path> tokenFile();

    /** Recovery actions, health clear, breaker reset, cordon/uncordon, forgetting a node at the coordinator. */
    Optional<Path> operatorTokenFile();

    /** Leases on an agent; placements at the coordinator. */
    Optional<Path> schedulerTokenFile();

    /** Agent: the coordinator's token it accepts for leases. Coordinator: the token it sends to agents. */
    Optional<Path> coordinatorTokenFile();

    /** Optional reading credential; needed for reads only with {@link #readersRequireToken()}. */
    Optional<Path> readerTokenFile();

    /** Agent: this node's own credential, sent with its heartbeats to the coordinator. */
    Optional<Path> nodeTokenFile();

    /** Coordinator: one file per node, named exactly as the node, holding that node's credential. */
    Optional<Path> nodeTokenDir();

    /** When true, reads (GET, HEAD) need a credential too, except the probes /q/health/* and /health. */
    @WithDefault("false")
    boolean readersRequireToken();
}
