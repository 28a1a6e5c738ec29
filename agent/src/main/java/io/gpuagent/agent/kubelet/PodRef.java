package io.gpuagent.agent.kubelet;

import java.util.Objects;

/**
 * One container the kubelet says holds a device: the names dcgm-exporter puts on GPU series as {@code pod},
 * {@code namespace} and {@code container}. The pod UID is kept for eviction (an Eviction names the pod, and the
 * UID tells a re-created pod of the same name from the one that held the device); it is never a metric label.
 */
public record PodRef(String namespace, String pod, String container, String uid) {

    public PodRef {
        Objects.requireNonNull(namespace, "namespace");
        Objects.requireNonNull(pod, "pod");
        Objects.requireNonNull(container, "container");
        Objects.requireNonNull(uid, "uid");
    }
}
