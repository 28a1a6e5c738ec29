package io.gpuagent.dcgm;

/** What {@code dcgmGetDeviceAttributes} says about one GPU; the UUID is what joins it to NVML's GPU. */
public record GpuAttributes(int gpuId, String uuid, String name, String pciBusId, String serial, String driverVersion) {
}
