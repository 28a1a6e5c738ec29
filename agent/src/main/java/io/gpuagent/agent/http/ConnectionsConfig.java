package io.gpuagent.agent.http;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/**
 * {@code gpu-agent.http.*}: bounds on connections beyond Quarkus' own {@code quarkus.http.limits.*}
 * (docs/configuration.md).
 */
@ConfigMapping(prefix = "gpu-agent.http")
public interface ConnectionsConfig {

    /**
     * Connections open at once from one client address (an IPv6 client: its /64); one more is closed as soon as
     * it is accepted. Loopback is an address like any other. Below {@code quarkus.http.limits.max-connections},
     * so that one client cannot take every connection from the others.
     */
    @WithDefault("64")
    int maxConnectionsPerAddress();
}
