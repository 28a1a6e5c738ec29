package io.gpuagent.agent.coordinator;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.net.URI;
import java.time.Duration;
import java.util.Optional;

/**
 * {@code gpu-agent.coordinator.*}: how agents and the coordinator find and judge each other
 * ({@code gpu-agent.role} is read by {@link NodeRole}). docs/configuration.md documents them.
 */
@ConfigMapping(prefix = "gpu-agent.coordinator")
public interface CoordinatorConfig {

    /** Agent role: the coordinator to register with, e.g. {@code http://coord:9400}; absent: none. */
    Optional<URI> url();

    /** Agent role: how often the inventory is sent (also at once when it changes). */
    @WithDefault("5s")
    Duration heartbeatInterval();

    /** Agent role: first wait after a failed heartbeat; it doubles up to the heartbeat interval. */
    @WithDefault("500ms")
    Duration retryInitialDelay();

    /** Coordinator role: a node whose last heartbeat is older than this is dropped. */
    @WithDefault("15s")
    Duration nodeTimeout();

    /** Both roles: how long one HTTP call to the other side may take (connect and the whole answer, body included). */
    @WithDefault("5s")
    Duration requestTimeout();

    /**
     * Coordinator role: refuse agentUrls that are not https. Implied by {@code gpu-agent.tls.trust-certificates}.
     */
    @WithDefault("false")
    boolean requireHttps();

    /**
     * Coordinator role: accept agentUrls that lead to a loopback or link-local address (tests that run every
     * agent on one host). Off: such a URL is refused at registration and before every call.
     */
    @WithDefault("false")
    boolean allowLoopbackAgents();
}
