package io.gpuagent.agent.kubelet;

/** Which id form the device plugin gives devices, as dcgm-exporter's {@code --kubernetes-gpu-id-type}. */
public enum GpuIdType {
    /** {@code GPU-<uuid>} and {@code MIG-<uuid>}, each optionally with a {@code ::N} time-slicing replica suffix. */
    UID,
    /** {@code nvidiaN} (the GPU with minor number N) and {@code nvidiaN/giM} (its GPU instance M), GKE's forms. */
    DEVICE_NAME
}
