package io.gpuagent.agent.sampler;

import io.gpuagent.agent.kubelet.PodMap;
import jakarta.inject.Singleton;
import java.time.Instant;
import java.util.Optional;

/**
 * The last good answer of the kubelet's pod-resources API, as a {@link PodMap}, and when it was taken. The
 * refresher publishes here off the scrape path; everything else (labels, the API, the event log, the
 * Kubernetes drain) reads the last published map and never waits for the kubelet.
 */
@Singleton
public class PodAttribution {

    /** A map and the time the kubelet gave it. */
    public record Published(PodMap map, Instant at) {
    }

    private volatile Optional<Published> last = Optional.empty();

    /** The last good map; {@link PodMap#EMPTY} before the first (or with attribution off). */
    public PodMap current() {
        return last.map(Published::map).orElse(PodMap.EMPTY);
    }

    /** The last good map and when it was taken; empty before the first. */
    public Optional<Published> last() {
        return last;
    }

    /** Replaces the last good map. */
    public void publish(PodMap map, Instant at) {
        last = Optional.of(new Published(map, at));
    }
}
