package io.gpuagent.agent.kubelet;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * Which containers hold which device, from one kubelet answer: keyed by the device's UUID exactly as NVML
 * spells it ({@code GPU-...} for a whole GPU, {@code MIG-...} for a MIG device), whatever form the device
 * plugin reported it in (a {@code nvidiaN} or {@code ::N} replica id is resolved to the UUID before it gets
 * here). Immutable; a refresh publishes a new one.
 */
public record PodMap(Map<String, List<PodRef>> byDevice) {

    /** No pods hold anything (attribution off, or no answer yet). */
    public static final PodMap EMPTY = new PodMap(Map.of());

    public PodMap {
        Objects.requireNonNull(byDevice, "byDevice");
        TreeMap<String, List<PodRef>> copy = new TreeMap<>();
        byDevice.forEach((uuid, pods) -> copy.put(uuid, List.copyOf(pods)));
        byDevice = java.util.Collections.unmodifiableSortedMap(copy);
    }

    /** The containers holding device {@code uuid} (a GPU or {@code MIG-} UUID), in the kubelet's order. */
    public List<PodRef> pods(String uuid) {
        return byDevice.getOrDefault(uuid, List.of());
    }

    /** The devices any container holds. */
    public Set<String> devices() {
        return byDevice.keySet();
    }

    public boolean isEmpty() {
        return byDevice.isEmpty();
    }
}
