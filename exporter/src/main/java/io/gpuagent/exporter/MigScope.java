package io.gpuagent.exporter;

/**
 * Where a GPU metric's value comes from on a GPU in MIG mode with GPU instances, for the one series set per GPU
 * instance that {@link GpuMetricsWriter} renders there (docs/metrics.md#mig has the table).
 *
 * <p>It follows DCGM, which dcgm-exporter reads: a field whose entity level is the GPU is read from the parent
 * and reported on every GPU instance entity (its users see the same SM clock on each instance); a field of GPU
 * instance or compute instance level (framebuffer, the profiling ratios, XIDs) is the instance's own
 * (NVIDIA/DCGM 72fa3fe, {@code dcgmlib/src/dcgm_fields.cpp} entity levels and
 * {@code DcgmCacheManager.cpp}'s remap to the parent GPU). What NVML refuses on a MIG-enabled GPU is absent
 * (nvml.h: utilization rates, encoder and decoder utilization "not currently supported" on MIG-enabled GPUs;
 * remapped rows "not supported" with active instances; volatile ECC counts through device handles "not
 * supported").
 */
public enum MigScope {
    /** Physical: the parent's value, repeated on every GPU instance of the GPU. */
    PARENT,
    /** Partitioned: each GPU instance's own value ({@link MigSample}); none where the instance has no value. */
    INSTANCE,
    /** Not served while the GPU has GPU instances: NVML answers NOT_SUPPORTED, or the value would mislead. */
    ABSENT;

    /** The scope of {@code metric}: its reading's, except the XID family, which is per instance. */
    public static MigScope of(MetricDef metric) {
        if (metric.isXid()) {
            return INSTANCE;   // an XID names its GPU instance (or is GPU-wide: the decorator answers both)
        }
        return metric.source() == null ? PARENT : of(metric.source());
    }

    /**
     * The scope of one reading. Exhaustive on purpose: a new reading does not compile until someone decides
     * whether MIG partitions it.
     */
    public static MigScope of(Reading reading) {
        return switch (reading) {
            // memory is partitioned per GPU instance (nvmlDeviceGetMemoryInfo_v2 on the MIG device handle)
            case FB_TOTAL_MIB, FB_FREE_MIB, FB_USED_MIB, FB_RESERVED_MIB -> INSTANCE;
            // GPM per GPU instance (nvmlGpmMigSampleGet); DCGM's DCGM_FI_PROF_* of GPU_I / GPU_CI level
            case GR_ENGINE_ACTIVE, SM_ACTIVE, SM_OCCUPANCY, PIPE_TENSOR_ACTIVE, PIPE_TENSOR_DFMA_ACTIVE,
                 PIPE_TENSOR_HMMA_ACTIVE, PIPE_TENSOR_IMMA_ACTIVE, PIPE_INT_ACTIVE, DRAM_ACTIVE, PIPE_FP64_ACTIVE,
                 PIPE_FP32_ACTIVE, PIPE_FP16_ACTIVE -> INSTANCE;
            case PROCESSES -> INSTANCE;
            // NVML: NOT_SUPPORTED on MIG-enabled GPUs
            case GPU_UTIL_PCT, MEM_COPY_UTIL_PCT, ENC_UTIL_PCT, DEC_UTIL_PCT -> ABSENT;
            // NVML: not supported with active instances (remapped rows), nor through device handles (volatile ECC)
            case REMAPPED_ROWS_CORRECTABLE, REMAPPED_ROWS_UNCORRECTABLE, ROW_REMAP_PENDING, ROW_REMAP_FAILURE,
                 ECC_SBE_VOLATILE, ECC_DBE_VOLATILE -> ABSENT;
            case SM_CLOCK_MHZ, MEM_CLOCK_MHZ, GRAPHICS_CLOCK_MHZ, VIDEO_CLOCK_MHZ, MAX_SM_CLOCK_MHZ, MAX_MEM_CLOCK_MHZ,
                 GPU_TEMP_C, MEMORY_TEMP_C, SLOWDOWN_TEMP_C, SHUTDOWN_TEMP_C, GPU_MAX_OP_TEMP_C, MEM_MAX_OP_TEMP_C,
                 POWER_USAGE_W, POWER_INSTANT_W, TOTAL_ENERGY_MJ, POWER_LIMIT_W, POWER_DEFAULT_LIMIT_W,
                 POWER_MIN_LIMIT_W, POWER_MAX_LIMIT_W, ENFORCED_POWER_LIMIT_W,
                 CLOCK_EVENT_REASONS, CLOCK_EVENTS_GPU_IDLE_TOTAL, CLOCK_EVENTS_CLOCKS_SETTING_TOTAL,
                 CLOCK_EVENTS_POWER_CAP_TOTAL, CLOCK_EVENTS_HW_SLOWDOWN_TOTAL, CLOCK_EVENTS_SYNC_BOOST_TOTAL,
                 CLOCK_EVENTS_SW_THERMAL_TOTAL, CLOCK_EVENTS_HW_THERMAL_TOTAL, CLOCK_EVENTS_HW_POWER_BRAKE_TOTAL,
                 CLOCK_EVENTS_DISPLAY_CLOCKS_TOTAL, PSTATE, FAN_SPEED_PCT, POWER_VIOLATION_NS, THERMAL_VIOLATION_NS,
                 SYNC_BOOST_VIOLATION_NS, BOARD_LIMIT_VIOLATION_NS, LOW_UTIL_VIOLATION_NS, RELIABILITY_VIOLATION_NS,
                 PCIE_TX_BYTES_PER_SEC, PCIE_RX_BYTES_PER_SEC, PCIE_REPLAY_COUNTER, PCIE_LINK_GEN, PCIE_LINK_WIDTH,
                 PCIE_MAX_LINK_GEN, PCIE_MAX_LINK_WIDTH,
                 ECC_CURRENT, ECC_PENDING, ECC_SBE_AGGREGATE, ECC_DBE_AGGREGATE,
                 RETIRED_PAGES_SBE, RETIRED_PAGES_DBE, RETIRED_PAGES_PENDING,
                 NVLINK_CRC_FLIT_ERRORS, NVLINK_CRC_DATA_ERRORS, NVLINK_REPLAY_ERRORS, NVLINK_RECOVERY_ERRORS,
                 NVLINK_DATA_TX_KIB, NVLINK_DATA_RX_KIB, NVLINK_BANDWIDTH_TOTAL_KIB, NVLINK_LINKS,
                 NVLINK_TX_BYTES_PER_SEC, NVLINK_RX_BYTES_PER_SEC,
                 MIG_MODE, MIG_MODE_PENDING, RECOVERY_ACTION, PERSISTENCE_MODE,
                 FABRIC_STATE, FABRIC_STATUS, FABRIC_HEALTH_MASK, FABRIC_HEALTH_SUMMARY -> PARENT;
        };
    }
}
