package io.gpuagent.nvml;

/**
 * A GPU instance profile ({@code nvmlGpuInstanceProfileInfo_v2_t}). {@code id} is the profile id instances carry
 * ({@link GpuInstance#profileId()}, nvidia-smi's "ID", e.g. 19 for 1g.10gb); {@code name} is NVML's, e.g.
 * {@code "MIG 1g.10gb"}, and empty from the v1 fallback (drivers without {@code nvmlDeviceGetGpuInstanceProfileInfoV}).
 * {@code sliceCount} counts compute slices, {@code instanceCount} the instances the GPU can hold of it.
 */
public record GpuInstanceProfile(int id, String name, int sliceCount, int instanceCount, int multiprocessorCount,
        int copyEngineCount, int decoderCount, int encoderCount, int jpegCount, int ofaCount, long memorySizeMib,
        boolean p2pSupported) {

    private static final String PREFIX = "MIG ";

    /** The name without NVML's {@code "MIG "} prefix: {@code "1g.10gb"}, dcgm-exporter's {@code GPU_I_PROFILE} value. */
    public String shortName() {
        return name.startsWith(PREFIX) ? name.substring(PREFIX.length()) : name;
    }
}
