package io.gpuagent.exporter;

import io.gpuagent.nvml.FieldIds;
import io.gpuagent.nvml.GpmMetricIds;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;

/**
 * Every value the sampler can read, with its NVML source. A {@link GpuSample} stores one {@code double} per
 * reading (NaN: absent, i.e. not supported, not requested or failed). Units are the ones the metric catalog
 * exports, converted on read (milliwatts to watts, bytes to MiB, GPM percent to a 0..1 ratio).
 *
 * <p>{@link Source.Field} readings come from one {@code nvmlDeviceGetFieldValues} batch per GPU and sweep;
 * {@link Source.Gpm} readings from one GPM metrics call over the previous and current GPM sample; the rest
 * from one per-function call each (or one call for several readings, e.g. utilization rates). Static
 * readings (thresholds, max clocks, limits) are refreshed every {@link SamplerSettings#staticEvery()} reads.
 */
public enum Reading {
    // clocks
    SM_CLOCK_MHZ("MHz", call("nvmlDeviceGetClockInfo(SM)")),
    MEM_CLOCK_MHZ("MHz", call("nvmlDeviceGetClockInfo(MEM)")),
    GRAPHICS_CLOCK_MHZ("MHz", call("nvmlDeviceGetClockInfo(GRAPHICS)")),
    VIDEO_CLOCK_MHZ("MHz", call("nvmlDeviceGetClockInfo(VIDEO)")),
    MAX_SM_CLOCK_MHZ("MHz", staticCall("nvmlDeviceGetMaxClockInfo(SM)")),
    MAX_MEM_CLOCK_MHZ("MHz", staticCall("nvmlDeviceGetMaxClockInfo(MEM)")),

    // thermal
    GPU_TEMP_C("C", call("nvmlDeviceGetTemperatureV (fallback nvmlDeviceGetTemperature)")),
    MEMORY_TEMP_C("C", field(FieldIds.MEMORY_TEMP)),
    SLOWDOWN_TEMP_C("C", staticCall("nvmlDeviceGetTemperatureThreshold(SLOWDOWN)")),
    SHUTDOWN_TEMP_C("C", staticCall("nvmlDeviceGetTemperatureThreshold(SHUTDOWN)")),
    GPU_MAX_OP_TEMP_C("C", staticCall("nvmlDeviceGetTemperatureThreshold(GPU_MAX)")),
    MEM_MAX_OP_TEMP_C("C", staticCall("nvmlDeviceGetTemperatureThreshold(MEM_MAX)")),

    // power and energy
    POWER_USAGE_W("W", call("nvmlDeviceGetPowerUsage / 1000")),
    POWER_INSTANT_W("W", field(FieldIds.POWER_INSTANT, 0.001)),
    TOTAL_ENERGY_MJ("mJ", field(FieldIds.TOTAL_ENERGY_CONSUMPTION)),
    POWER_LIMIT_W("W", field(FieldIds.POWER_CURRENT_LIMIT, 0.001)),
    POWER_DEFAULT_LIMIT_W("W", field(FieldIds.POWER_DEFAULT_LIMIT, 0.001)),
    POWER_MIN_LIMIT_W("W", field(FieldIds.POWER_MIN_LIMIT, 0.001)),
    POWER_MAX_LIMIT_W("W", field(FieldIds.POWER_MAX_LIMIT, 0.001)),
    ENFORCED_POWER_LIMIT_W("W", call("nvmlDeviceGetEnforcedPowerLimit / 1000")),

    // utilization
    GPU_UTIL_PCT("%", call("nvmlDeviceGetUtilizationRates.gpu")),
    MEM_COPY_UTIL_PCT("%", call("nvmlDeviceGetUtilizationRates.memory")),
    ENC_UTIL_PCT("%", call("nvmlDeviceGetEncoderUtilization")),
    DEC_UTIL_PCT("%", call("nvmlDeviceGetDecoderUtilization")),

    // frame buffer
    FB_TOTAL_MIB("MiB", call("nvmlDeviceGetMemoryInfo_v2.total / 2^20")),
    FB_FREE_MIB("MiB", call("nvmlDeviceGetMemoryInfo_v2.free / 2^20")),
    FB_USED_MIB("MiB", call("nvmlDeviceGetMemoryInfo_v2.used / 2^20")),
    FB_RESERVED_MIB("MiB", call("nvmlDeviceGetMemoryInfo_v2.reserved / 2^20")),

    // performance
    /** {@link io.gpuagent.nvml.ClockEventReasons} bits (exact in a double). */
    CLOCK_EVENT_REASONS("bitmask", call("nvmlDeviceGetCurrentClocksEventReasons")),
    PSTATE("P-state", call("nvmlDeviceGetPerformanceState")),
    /** Mean over the board's fans; absent on boards without fans. */
    FAN_SPEED_PCT("%", call("nvmlDeviceGetFanSpeed_v2 (mean over nvmlDeviceGetNumFans)")),
    POWER_VIOLATION_NS("ns", field(FieldIds.PERF_POLICY_POWER)),
    THERMAL_VIOLATION_NS("ns", field(FieldIds.PERF_POLICY_THERMAL)),
    SYNC_BOOST_VIOLATION_NS("ns", field(FieldIds.PERF_POLICY_SYNC_BOOST)),
    BOARD_LIMIT_VIOLATION_NS("ns", field(FieldIds.PERF_POLICY_BOARD_LIMIT)),
    LOW_UTIL_VIOLATION_NS("ns", field(FieldIds.PERF_POLICY_LOW_UTILIZATION)),
    RELIABILITY_VIOLATION_NS("ns", field(FieldIds.PERF_POLICY_RELIABILITY)),
    /*
     * Clock events that began, per reason (ClockEvent): times the reason's bit of CLOCK_EVENT_REASONS went from
     * clear to set between two reads, since the sampler first read this GPU (a reason set at that first read is
     * not counted), as dcgm-exporter's DCGM_EXP_CLOCK_EVENTS_TOTAL counts. No NVML call of their own.
     */
    CLOCK_EVENTS_GPU_IDLE_TOTAL("events", clockEvents("GPU_IDLE")),
    CLOCK_EVENTS_CLOCKS_SETTING_TOTAL("events", clockEvents("APPLICATIONS_CLOCKS_SETTING")),
    CLOCK_EVENTS_POWER_CAP_TOTAL("events", clockEvents("SW_POWER_CAP")),
    CLOCK_EVENTS_HW_SLOWDOWN_TOTAL("events", clockEvents("HW_SLOWDOWN")),
    CLOCK_EVENTS_SYNC_BOOST_TOTAL("events", clockEvents("SYNC_BOOST")),
    CLOCK_EVENTS_SW_THERMAL_TOTAL("events", clockEvents("SW_THERMAL_SLOWDOWN")),
    CLOCK_EVENTS_HW_THERMAL_TOTAL("events", clockEvents("HW_THERMAL_SLOWDOWN")),
    CLOCK_EVENTS_HW_POWER_BRAKE_TOTAL("events", clockEvents("HW_POWER_BRAKE_SLOWDOWN")),
    CLOCK_EVENTS_DISPLAY_CLOCKS_TOTAL("events", clockEvents("DISPLAY_CLOCK_SETTING")),

    // PCIe
    /**
     * Bytes per second. From GPM ({@code PCIE_TX_PER_SEC}, MiB/s) where the GPU has it, which costs nothing
     * extra; otherwise {@code nvmlDeviceGetPcieThroughput} (KB/s x 1024), which blocks ~20 ms per counter.
     */
    PCIE_TX_BYTES_PER_SEC("B/s", call("GPM PCIE_TX_PER_SEC, else nvmlDeviceGetPcieThroughput(TX) x 1024 (20 ms)")),
    PCIE_RX_BYTES_PER_SEC("B/s", call("GPM PCIE_RX_PER_SEC, else nvmlDeviceGetPcieThroughput(RX) x 1024 (20 ms)")),
    PCIE_REPLAY_COUNTER("count", field(FieldIds.PCIE_REPLAY_COUNTER)),
    PCIE_LINK_GEN("gen", call("nvmlDeviceGetCurrPcieLinkGeneration")),
    PCIE_LINK_WIDTH("lanes", call("nvmlDeviceGetCurrPcieLinkWidth")),
    PCIE_MAX_LINK_GEN("gen", call("nvmlDeviceGetMaxPcieLinkGeneration")),
    PCIE_MAX_LINK_WIDTH("lanes", call("nvmlDeviceGetMaxPcieLinkWidth")),

    // ECC and memory health
    ECC_CURRENT("0/1", staticField(FieldIds.ECC_CURRENT)),
    ECC_PENDING("0/1", staticField(FieldIds.ECC_PENDING)),
    ECC_SBE_VOLATILE("errors", field(FieldIds.ECC_SBE_VOL_TOTAL)),
    ECC_DBE_VOLATILE("errors", field(FieldIds.ECC_DBE_VOL_TOTAL)),
    ECC_SBE_AGGREGATE("errors", field(FieldIds.ECC_SBE_AGG_TOTAL)),
    ECC_DBE_AGGREGATE("errors", field(FieldIds.ECC_DBE_AGG_TOTAL)),
    RETIRED_PAGES_SBE("pages", field(FieldIds.RETIRED_SBE)),
    RETIRED_PAGES_DBE("pages", field(FieldIds.RETIRED_DBE)),
    RETIRED_PAGES_PENDING("0/1", field(FieldIds.RETIRED_PENDING)),
    REMAPPED_ROWS_CORRECTABLE("rows", field(FieldIds.REMAPPED_COR)),
    REMAPPED_ROWS_UNCORRECTABLE("rows", field(FieldIds.REMAPPED_UNC)),
    ROW_REMAP_PENDING("0/1", field(FieldIds.REMAPPED_PENDING)),
    ROW_REMAP_FAILURE("0/1", field(FieldIds.REMAPPED_FAILURE)),

    // NVLink (totals over all links)
    NVLINK_CRC_FLIT_ERRORS("errors", field(FieldIds.NVLINK_CRC_FLIT_ERROR_COUNT_TOTAL)),
    NVLINK_CRC_DATA_ERRORS("errors", field(FieldIds.NVLINK_CRC_DATA_ERROR_COUNT_TOTAL)),
    NVLINK_REPLAY_ERRORS("errors", field(FieldIds.NVLINK_REPLAY_ERROR_COUNT_TOTAL)),
    NVLINK_RECOVERY_ERRORS("errors", field(FieldIds.NVLINK_RECOVERY_ERROR_COUNT_TOTAL)),
    NVLINK_DATA_TX_KIB("KiB", new Source.Field(FieldIds.NVLINK_THROUGHPUT_DATA_TX, FieldIds.SCOPE_ALL_LINKS, 1, false)),
    NVLINK_DATA_RX_KIB("KiB", new Source.Field(FieldIds.NVLINK_THROUGHPUT_DATA_RX, FieldIds.SCOPE_ALL_LINKS, 1, false)),
    /** {@link #NVLINK_DATA_TX_KIB} + {@link #NVLINK_DATA_RX_KIB}. */
    NVLINK_BANDWIDTH_TOTAL_KIB("KiB", new Source.Derived("NVLink data TX + RX throughput fields, all links")),
    /** Active links; the per-link detail is {@link GpuSample#nvLinks()}. */
    NVLINK_LINKS("links", call("nvmlDeviceGetNvLinkState per link; error counters per link when a total moved")),

    // NVLink fabric (NVSwitch systems): nvmlDeviceGetGpuFabricInfoV, else nvmlDeviceGetGpuFabricInfo
    /** {@link io.gpuagent.nvml.FabricInfo} state: 0 not supported, 1 not started, 2 in progress, 3 completed. */
    FABRIC_STATE("state", call("nvmlDeviceGetGpuFabricInfoV (fallback nvmlDeviceGetGpuFabricInfo)")),
    /** The fabric probe's nvmlReturn_t (0 SUCCESS). */
    FABRIC_STATUS("nvmlReturn", call("nvmlDeviceGetGpuFabricInfoV (fallback nvmlDeviceGetGpuFabricInfo)")),
    /** NVML_GPU_FABRIC_HEALTH_MASK_* bit fields (exact in a double); absent with the old call. */
    FABRIC_HEALTH_MASK("bitmask", call("nvmlDeviceGetGpuFabricInfoV")),
    /** NVML_GPU_FABRIC_HEALTH_SUMMARY_*: 1 healthy, 2 unhealthy, 3 limited capacity; absent before 570. */
    FABRIC_HEALTH_SUMMARY("summary", call("nvmlDeviceGetGpuFabricInfoV")),

    // GPM (Hopper and newer): metrics over the interval between two sweeps
    GR_ENGINE_ACTIVE("ratio", gpm(GpmMetricIds.GRAPHICS_UTIL, 0.01)),
    SM_ACTIVE("ratio", gpm(GpmMetricIds.SM_UTIL, 0.01)),
    SM_OCCUPANCY("ratio", gpm(GpmMetricIds.SM_OCCUPANCY, 0.01)),
    PIPE_TENSOR_ACTIVE("ratio", gpm(GpmMetricIds.ANY_TENSOR_UTIL, 0.01)),
    PIPE_TENSOR_DFMA_ACTIVE("ratio", gpm(GpmMetricIds.DFMA_TENSOR_UTIL, 0.01)),
    PIPE_TENSOR_HMMA_ACTIVE("ratio", gpm(GpmMetricIds.HMMA_TENSOR_UTIL, 0.01)),
    PIPE_TENSOR_IMMA_ACTIVE("ratio", gpm(GpmMetricIds.IMMA_TENSOR_UTIL, 0.01)),
    PIPE_INT_ACTIVE("ratio", gpm(GpmMetricIds.INTEGER_UTIL, 0.01)),
    DRAM_ACTIVE("ratio", gpm(GpmMetricIds.DRAM_BW_UTIL, 0.01)),
    PIPE_FP64_ACTIVE("ratio", gpm(GpmMetricIds.FP64_UTIL, 0.01)),
    PIPE_FP32_ACTIVE("ratio", gpm(GpmMetricIds.FP32_UTIL, 0.01)),
    PIPE_FP16_ACTIVE("ratio", gpm(GpmMetricIds.FP16_UTIL, 0.01)),
    NVLINK_TX_BYTES_PER_SEC("B/s", gpm(GpmMetricIds.NVLINK_TOTAL_TX_PER_SEC, 1024.0 * 1024.0)),
    NVLINK_RX_BYTES_PER_SEC("B/s", gpm(GpmMetricIds.NVLINK_TOTAL_RX_PER_SEC, 1024.0 * 1024.0)),

    // driver hints and processes
    /** MIG mode now: 1 enabled, 0 disabled; absent on a GPU without MIG. */
    MIG_MODE("mode", call("nvmlDeviceGetMigMode (current)")),
    /** MIG mode after the next GPU reset: differs from {@link #MIG_MODE} while a change waits for a reset. */
    MIG_MODE_PENDING("mode", call("nvmlDeviceGetMigMode (pending)")),

    /** Persistence mode: 1 on, 0 off (the node check wants it on for every GPU, docs/node-health.md). */
    PERSISTENCE_MODE("mode", call("nvmlDeviceGetPersistenceMode")),
    /** {@link io.gpuagent.nvml.RecoveryAction} ordinal (565+ drivers). */
    RECOVERY_ACTION("action", field(FieldIds.GET_GPU_RECOVERY_ACTION)),
    /** Process count; the list is {@link GpuSample#processes()} (a ms-class call on real hardware). */
    PROCESSES("processes", call("nvmlDeviceGetComputeRunningProcesses_v3 + nvmlDeviceGetGraphicsRunningProcesses_v3"));

    /** Number of readings: the length of a sample's value array. */
    public static final int COUNT = values().length;

    private final String unit;
    private final Source source;

    Reading(String unit, Source source) {
        this.unit = unit;
        this.source = source;
    }

    /** The unit the value is stored in. */
    public String unit() {
        return unit;
    }

    /** Where the value comes from. */
    public Source source() {
        return source;
    }

    /** Read only every {@link SamplerSettings#staticEvery()} reads of a GPU; the value is carried over in between. */
    public boolean isStatic() {
        return source.isStatic();
    }

    /** Every reading. */
    public static Set<Reading> all() {
        return Collections.unmodifiableSet(EnumSet.allOf(Reading.class));
    }

    /**
     * What the fault detectors of docs/faults.md read: thermal thresholds, clock event reasons, ECC, retired
     * pages, remapped rows, PCIe replay and link, NVLink per link, recovery action, processes and memory
     * (placement), and the MIG mode (a GPU in MIG mode is never leased whole). Union it with {@link MetricCatalog#readingsFor} for the sampler's settings.
     */
    public static Set<Reading> health() {
        return Collections.unmodifiableSet(EnumSet.of(GPU_TEMP_C, MEMORY_TEMP_C, SLOWDOWN_TEMP_C, SHUTDOWN_TEMP_C,
                GPU_MAX_OP_TEMP_C, MEM_MAX_OP_TEMP_C, CLOCK_EVENT_REASONS, POWER_USAGE_W, POWER_LIMIT_W,
                POWER_DEFAULT_LIMIT_W, ECC_CURRENT, ECC_SBE_VOLATILE, ECC_DBE_VOLATILE, ECC_SBE_AGGREGATE,
                ECC_DBE_AGGREGATE, RETIRED_PAGES_SBE, RETIRED_PAGES_DBE, RETIRED_PAGES_PENDING,
                REMAPPED_ROWS_CORRECTABLE, REMAPPED_ROWS_UNCORRECTABLE, ROW_REMAP_PENDING, ROW_REMAP_FAILURE,
                PCIE_REPLAY_COUNTER, PCIE_LINK_GEN, PCIE_LINK_WIDTH, PCIE_MAX_LINK_GEN, PCIE_MAX_LINK_WIDTH,
                NVLINK_CRC_FLIT_ERRORS, NVLINK_CRC_DATA_ERRORS, NVLINK_REPLAY_ERRORS, NVLINK_RECOVERY_ERRORS,
                NVLINK_LINKS, FABRIC_STATE, FABRIC_STATUS, FABRIC_HEALTH_MASK, FABRIC_HEALTH_SUMMARY, RECOVERY_ACTION,
                PERSISTENCE_MODE, FB_TOTAL_MIB, FB_FREE_MIB, FB_USED_MIB, PROCESSES, MIG_MODE,
                MIG_MODE_PENDING));
    }

    private static Source call(String description) {
        return new Source.Call(description, false);
    }

    private static Source staticCall(String description) {
        return new Source.Call(description, true);
    }

    private static Source field(int id) {
        return new Source.Field(id, 0, 1, false);
    }

    private static Source field(int id, double scale) {
        return new Source.Field(id, 0, scale, false);
    }

    private static Source staticField(int id) {
        return new Source.Field(id, 0, 1, true);
    }

    private static Source clockEvents(String reason) {
        return new Source.Derived("nvmlDeviceGetCurrentClocksEventReasons: " + reason + " clear-to-set transitions");
    }

    private static Source gpm(int metricId, double scale) {
        return new Source.Gpm(metricId, scale);
    }

    /** Where a reading's value comes from. */
    public sealed interface Source {
        boolean isStatic();

        /** One NVML function (or a fallback chain) per reading or per small group of readings. */
        record Call(String description, boolean isStatic) implements Source {
        }

        /** An {@code NVML_FI_*} entry of the per-GPU field-values batch; value x {@code scale}. */
        record Field(int fieldId, int scopeId, double scale, boolean isStatic) implements Source {
        }

        /** A GPM metric between the previous and the current sweep's GPM sample; value x {@code scale}. */
        record Gpm(int metricId, double scale) implements Source {
            @Override
            public boolean isStatic() {
                return false;
            }
        }

        /** Computed from other readings of the same sample. */
        record Derived(String description) implements Source {
            @Override
            public boolean isStatic() {
                return false;
            }
        }
    }
}
