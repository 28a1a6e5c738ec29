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

    /**
     * Agent: the coordinator's token it accepts for leases (made for this agent alone). A coordinator never sends
     * it and refuses to start with it but without {@link #coordinatorTokenDir()} or a client certificate.
     */
    Optional<Path> coordinatorTokenFile();

    /**
     * Coordinator: one file per node, named exactly as the node, holding the token that node's agent keeps in its
     * own {@link #coordinatorTokenFile()}; sent only to that node's bound agentUrl.
     */
    Optional<Path> coordinatorTokenDir();

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
