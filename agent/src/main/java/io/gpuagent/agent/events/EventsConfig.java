package io.gpuagent.agent.events;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** {@code gpu-agent.events.*}: bounds of the event stream (docs/configuration.md). */
@ConfigMapping(prefix = "gpu-agent.events")
public interface EventsConfig {

    /**
     * Event stream clients served at once; one more is answered 503. Each holds a connection and its
     * write buffer, so this bounds what unauthenticated readers can take from the agent.
     */
    @WithDefault("64")
    int maxSubscribers();

    /**
     * How many new events a stream client may fall behind (events recorded since it connected that it has
     * not taken yet) before it is cut off with a reason; it resumes with Last-Event-ID.
     */
    @WithDefault("1000")
    int maxBehind();

    /**
     * Of {@code max-subscribers}, the slots only a client presenting one of the agent's credentials (any role) may
     * take, so that anonymous readers filling the stream cannot lock out the operator's or the coordinator's.
     */
    @WithDefault("16")
    int reservedForAuthenticated();

    /**
     * Stream clients from one address (an IPv6 client: its /64) at once, authenticated or not; one more is
     * answered 503.
     */
    @WithDefault("8")
    int maxSubscribersPerAddress();
}
