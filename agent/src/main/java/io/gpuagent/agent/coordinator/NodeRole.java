package io.gpuagent.agent.coordinator;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithParentName;

/**
 * {@code gpu-agent.role}: {@code agent} (default), a GPU host, or {@code coordinator}, which keeps the node
 * list and places jobs. Its own mapping (the key itself is the prefix) so that this package owns it.
 */
@ConfigMapping(prefix = "gpu-agent.role")
public interface NodeRole {

    @WithParentName
    @WithDefault("agent")
    Role role();

    default boolean coordinator() {
        return role() == Role.COORDINATOR;
    }
}
