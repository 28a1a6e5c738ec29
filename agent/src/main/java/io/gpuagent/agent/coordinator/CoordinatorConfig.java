package io.gpuagent.agent.coordinator;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.net.URI;
import java.time.Duration;
import java.util.Optional;

/**
 * {@code gpu-agent.role} and {@code gpu-agent.coordinator.*}: which role this process plays and how agents and
 * the coordinator find and judge each other. README.md "Coordinator" documents them.
 */
@ConfigMapping(prefix = "gpu-agent")
public interface CoordinatorConfig {

    /** {@code agent} (default): a GPU host. {@code coordinator}: keeps the node list and places jobs. */
    @WithDefault("agent")
    Role role();

    Coordinator coordinator();

    interface Coordinator {

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
}
