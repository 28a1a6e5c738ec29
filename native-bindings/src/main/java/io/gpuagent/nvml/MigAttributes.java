package io.gpuagent.nvml;

/**
 * {@code nvmlDeviceAttributes_t} of a MIG device: its compute instance's SMs, the engines its GPU instance shares
 * among its compute instances, both slice counts, and the GPU instance's memory (MiB).
 */
public record MigAttributes(int multiprocessorCount, int sharedCopyEngineCount, int sharedDecoderCount,
        int sharedEncoderCount, int sharedJpegCount, int sharedOfaCount, int gpuInstanceSliceCount,
        int computeInstanceSliceCount, long memorySizeMib) {
}
