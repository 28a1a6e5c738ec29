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

    /** Both roles: how long one HTTP call to the other side may take (connect and answer). */
    @WithDefault("5s")
    Duration requestTimeout();
}
