package io.gpuagent.agent.kubelet;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Which containers hold which device, from one kubelet answer: keyed by the device's UUID exactly as NVML
 * spells it ({@code GPU-...} for a whole GPU, {@code MIG-...} for a MIG device), whatever form the device
 * plugin reported it in (a {@code nvidiaN} or {@code ::N} replica id is resolved to the UUID before it gets
 * here). Immutable; a refresh publishes a new one.
 *
 * <p>{@code allocatable}: the UUIDs of this node's devices the kubelet offers for allocation (its
 * {@code GetAllocatableResources}), when it answered that too; empty when unknown (a kubelet without the call, or
 * it failed this time).
 */
public record PodMap(Map<String, List<PodRef>> byDevice, Optional<Set<String>> allocatable) {

    /** No pods hold anything (attribution off, or no answer yet). */
    public static final PodMap EMPTY = new PodMap(Map.of());

    public PodMap {
        Objects.requireNonNull(byDevice, "byDevice");
        TreeMap<String, List<PodRef>> copy = new TreeMap<>();
        byDevice.forEach((uuid, pods) -> copy.put(uuid, List.copyOf(pods)));
        byDevice = java.util.Collections.unmodifiableSortedMap(copy);
        allocatable = allocatable.map(java.util.TreeSet::new).map(java.util.Collections::unmodifiableSet);
    }

    /** A map without the kubelet's allocatable devices. */
    public PodMap(Map<String, List<PodRef>> byDevice) {
        this(byDevice, Optional.empty());
    }

    /** Whether the kubelet offers device {@code uuid} for allocation; empty when that is not known. */
    public Optional<Boolean> allocatable(String uuid) {
        return allocatable.map(devices -> devices.contains(uuid));
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
