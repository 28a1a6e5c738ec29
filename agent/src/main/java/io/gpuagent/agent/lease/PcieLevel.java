package io.gpuagent.agent.lease;

import java.util.Optional;

/**
 * How close two GPUs are on PCIe: their nearest common ancestor, NVML's {@code nvmlGpuTopologyLevel_t}, nearest
 * first. The inventory writes the name ({@code pcieAncestor}); both the node's {@link GpuPicker} and the
 * coordinator's placer weigh a pair by its position.
 */
public enum PcieLevel {
    /** The same board (e.g. two GPUs of one card). */
    INTERNAL,
    /** One PCIe switch. */
    SINGLE,
    /** Several PCIe switches, no host bridge between. */
    MULTIPLE,
    /** One host bridge. */
    HOSTBRIDGE,
    /** One NUMA node, across host bridges. */
    NODE,
    /** Across NUMA nodes (SMP interconnect). */
    SYSTEM;

    /** NVML's value (0, 10, ... 50); empty for -1 (unknown) or a value a later NVML may add. */
    static Optional<PcieLevel> ofNvml(int level) {
        return level >= 0 && level % 10 == 0 && level / 10 < values().length ? Optional.of(values()[level / 10])
                : Optional.empty();
    }

    /** The level an inventory names; empty for none or a name this version does not know. */
    public static Optional<PcieLevel> named(String name) {
        for (PcieLevel l : values()) {
            if (l.name().equals(name)) {
                return Optional.of(l);
            }
        }
        return Optional.empty();
    }
}
