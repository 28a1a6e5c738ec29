package io.gpuagent.nvml;

/** {@code nvmlGpuP2PStatus_t}: whether a peer-to-peer capability works between two GPUs, and if not why. */
public enum P2pStatus {
    OK, CHIPSET_NOT_SUPPORTED, GPU_NOT_SUPPORTED, IOH_TOPOLOGY_NOT_SUPPORTED, DISABLED_BY_REGKEY, NOT_SUPPORTED, UNKNOWN;

    /** UNKNOWN for a code newer than this enum. */
    public static P2pStatus of(int code) {
        P2pStatus[] all = values();
        return code >= 0 && code < all.length ? all[code] : UNKNOWN;
    }
}
