package io.gpuagent.nvml;

/**
 * A GPU instance ({@code nvmlGpuInstanceInfo_t}): its id on the GPU, its {@link GpuInstanceProfile#id() profile id},
 * and the memory slices it holds ({@code placementStart}, {@code placementSize}).
 */
public record GpuInstance(int id, int profileId, int placementStart, int placementSize) {
}
