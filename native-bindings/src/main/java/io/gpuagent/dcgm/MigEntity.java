package io.gpuagent.dcgm;

/**
 * One entry of {@code dcgmGetGpuInstanceHierarchy}: a GPU instance (parent: its GPU) or a compute instance (parent:
 * its GPU instance). {@code gpuUuid} is the parent GPU's, which with the NVML ids joins it to NVML's MIG devices.
 * {@code computeInstanceId} is -1 for a GPU instance.
 */
public record MigEntity(Entity entity, Entity parent, String gpuUuid, int gpuIndex, int gpuInstanceId,
                        int computeInstanceId, int profileId, int slices) {
}
