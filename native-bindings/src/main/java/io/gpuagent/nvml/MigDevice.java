package io.gpuagent.nvml;

import java.util.List;

/**
 * One MIG device: a compute instance on a GPU instance, reached through its own {@code nvmlDevice_t} (a MIG device
 * handle). Enumerated by {@link GpuDevice#migDevices()}, which hands out fresh objects on every call: a MIG handle
 * dies with its instance (destroyed, or the GPU reset or reconfigured), so never keep one past the read it was
 * enumerated for. The identity ({@link #slot()}, {@link #uuid()}, the instance ids) is read once, when the device
 * is enumerated; the readings are NVML calls on the MIG handle and throw {@link NvmlException} like
 * {@link GpuDevice}'s.
 */
public interface MigDevice {

    /** The GPU it was enumerated from (the GPU {@code nvmlDeviceGetDeviceHandleFromMigDeviceHandle} names). */
    GpuDevice parent();

    /** The index given to {@code nvmlDeviceGetMigDeviceHandleByIndex} (also what {@code nvmlDeviceGetIndex} answers). */
    int slot();

    /** {@code nvmlDeviceGetUUID} on the MIG handle, exactly as the driver writes it ({@code MIG-...}). */
    String uuid();

    /** {@code nvmlDeviceGetGpuInstanceId}. */
    int gpuInstanceId();

    /** {@code nvmlDeviceGetComputeInstanceId}: unique within its GPU instance. */
    int computeInstanceId();

    /** Memory of its GPU instance: {@code nvmlDeviceGetMemoryInfo_v2} with the v1 fallback, as for GPUs. */
    MemoryInfo memoryInfo();

    /** {@code nvmlDeviceGetAttributes_v2}: SMs of this compute instance, engines shared in its GPU instance. */
    MigAttributes attributes();

    /** Processes running in this compute instance ({@code _v3} with the growth loop and stride probe, as for GPUs). */
    List<ProcessInfo> computeProcesses();
}
