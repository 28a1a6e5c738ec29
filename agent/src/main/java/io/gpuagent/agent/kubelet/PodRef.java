package io.gpuagent.agent.kubelet;

import java.util.Objects;

/**
 * One container the kubelet says holds a device: the names dcgm-exporter puts on GPU series as {@code pod},
 * {@code namespace} and {@code container}. The pod UID, where the source names it, is kept for eviction (the UID
 * tells a re-created pod of the same name from the one that held the device); the kubelet's pod-resources answer
 * names none, so it is empty there and the drain reads the pod first. Never a metric label.
 */
public record PodRef(String namespace, String pod, String container, String uid) {

    public PodRef {
        Objects.requireNonNull(namespace, "namespace");
        Objects.requireNonNull(pod, "pod");
        Objects.requireNonNull(container, "container");
        Objects.requireNonNull(uid, "uid");
    }
}
