package io.gpuagent.nvml;

/**
 * A process NVML reports on a GPU. {@code usedGpuMemory} is bytes, or -1 when NVML does not know it.
 * {@code gpuInstanceId}/{@code computeInstanceId} are -1 outside MIG.
 */
public record ProcessInfo(int pid, long usedGpuMemory, int gpuInstanceId, int computeInstanceId) {
}
