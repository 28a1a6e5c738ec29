package io.gpuagent.exporter;

/** How fresh one GPU's readings in a {@link Snapshot} are. */
public enum GpuStatus {
    /** Read in full by this sweep (or a late read that finished since the last one). */
    OK,
    /**
     * The read is still inside NVML past the sweep's deadline (or could not identify the GPU): the previous
     * values are served with their old {@link GpuSample#readAt()}. Series stay; their age shows.
     */
    STALE,
    /**
     * NVML said GPU_IS_LOST (or LIB_RM_VERSION_MISMATCH), or the driver stopped reporting this index. Its
     * series disappear from the GPU family; the last values are kept in the snapshot for the detectors.
     */
    LOST
}
