package io.gpuagent.exporter;

import java.util.Objects;

/**
 * The identity of one MIG device: a compute instance on a GPU instance of a GPU in MIG mode. It is what CUDA, the
 * NVIDIA device plugin and Slurm hand to a job, so it is the unit the agent measures, judges, leases and places,
 * exactly as it does a whole GPU. Read with the GPU's static readings and on every MIG configuration change.
 *
 * <p>Key data by {@link #uuid()}: the GI id of a destroyed instance comes back on the next one created, so
 * {@code (parent, gi)} is not stable across a reconfiguration; the MIG UUID is.
 *
 * @param gpuIndex          NVML index of the parent GPU
 * @param parentUuid        {@code GPU-...} of the parent
 * @param uuid              {@code MIG-...} exactly as the driver writes it (never rewritten: the kubelet and the
 *                          device plugin report it verbatim)
 * @param gpuInstanceId     the GPU instance id (dcgm-exporter's {@code GPU_I_ID})
 * @param computeInstanceId the compute instance id within that GPU instance
 * @param profile           the GPU instance profile without NVML's {@code "MIG "} prefix, e.g. {@code 1g.10gb}
 *                          (dcgm-exporter's {@code GPU_I_PROFILE})
 * @param profileId         {@code NVML_GPU_INSTANCE_PROFILE_*}
 * @param slices            GPU slices the GPU instance holds
 * @param placementStart    first slice of the GPU instance's placement
 * @param multiprocessors   streaming multiprocessors of this MIG device
 * @param memoryMib         memory of its GPU instance, MiB
 */
public record MigInstance(int gpuIndex, String parentUuid, String uuid, int gpuInstanceId, int computeInstanceId,
                          String profile, int profileId, int slices, int placementStart, int multiprocessors,
                          long memoryMib) {

    public MigInstance {
        Objects.requireNonNull(parentUuid, "parentUuid");
        Objects.requireNonNull(uuid, "uuid");
        Objects.requireNonNull(profile, "profile");
        if (!uuid.startsWith("MIG-")) {
            throw new IllegalArgumentException("a MIG device's UUID starts with MIG-, not " + uuid);
        }
    }

    /**
     * The API's short name: {@code <gpu>/<gi>} for compute instance 0 (the usual layout, one compute instance
     * filling its GPU instance), {@code <gpu>/<gi>/<ci>} otherwise.
     */
    public String address() {
        return computeInstanceId == 0 ? gpuIndex + "/" + gpuInstanceId
                : gpuIndex + "/" + gpuInstanceId + "/" + computeInstanceId;
    }
}
