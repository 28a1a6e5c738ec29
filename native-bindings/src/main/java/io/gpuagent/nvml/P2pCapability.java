package io.gpuagent.nvml;

/** {@code nvmlGpuP2PCapsIndex_t}: which peer-to-peer capability {@link GpuDevice#p2pStatus} asks about. */
public enum P2pCapability {
    READ, WRITE, NVLINK, ATOMICS, PROP;

    public int code() {
        return ordinal();
    }
}
