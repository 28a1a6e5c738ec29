package io.gpuagent.agent.health.detect;

import java.util.Locale;

/** The node checks of docs/node-health.md, each a label of {@code gpu_agent_node_check{check}}. */
public enum NodeCheck {
    /** The host sample could not be read in time or at all (a hung /proc or /sys read). */
    HOST_READ,
    /** The nvidia kernel module is loaded and its version is NVML's driver version. */
    KERNEL_MODULE,
    /** Persistence mode is on for every GPU. */
    PERSISTENCE_MODE,
    /** As many GPUs as expected (configured or learned at the first healthy start). */
    GPU_COUNT,
    /** No process sits in D state holding a /dev/nvidia* file for longer than the limit. */
    DEVICE_HOLDERS,
    /** Every GPU has the expected number of active NVLink links. */
    NVLINK_LINKS,
    /** Every GPU of an NVSwitch system joined its NVLink fabric, healthy and at full bandwidth. */
    NVLINK_FABRIC,
    /** On an NVLink node every pair of GPUs has NVLink peer-to-peer (the P2P matrix). */
    NVLINK_P2P,
    /** The state directory has room. */
    STATE_DIR,
    /** The kernel clock is synchronised (leases expire by it). */
    CLOCK,
    /** As many InfiniBand/RoCE ports as expected, each ACTIVE and LinkUp. */
    IB_PORTS,
    /** Every port at the expected rate. */
    IB_RATE,
    /** No port went down more often than the flap limit within the flap window. */
    IB_FLAP,
    /** Port error counters grow slower than their limits. */
    IB_ERRORS;

    /** The metric label: {@code kernel_module}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
