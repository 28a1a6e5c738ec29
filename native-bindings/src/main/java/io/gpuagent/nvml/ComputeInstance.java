package io.gpuagent.nvml;

/**
 * A compute instance ({@code nvmlComputeInstanceInfo_t}) within a GPU instance: its id there, its compute instance
 * profile ({@code NVML_COMPUTE_INSTANCE_PROFILE_*}: 0 for one slice, 1 two, 2 three, 3 four, 4 seven), and the
 * compute slices it holds within the GPU instance.
 */
public record ComputeInstance(int id, int profileId, int placementStart, int placementSize) {
}
