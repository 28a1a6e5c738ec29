package io.gpuagent.exporter;

import static io.gpuagent.exporter.MetricType.COUNTER;
import static io.gpuagent.exporter.MetricType.GAUGE;
import static io.gpuagent.exporter.MetricType.LABEL;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Every GPU metric the agent can export (docs/metrics.md): dcgm-exporter's names, types and help texts (from its
 * {@code default-counters.csv} and {@code dcp-metrics-included.csv}), each bound to the {@link Reading} it
 * renders. The default set is dcgm-exporter's default counters that NVML can supply; the rest is opt-in
 * through a counters file ({@code all-counters.csv} lists them all). Names resolve through DCGM field ids,
 * so DCGM 4.x aliases ({@code DCGM_FI_DEV_GPU_TEMP_CELSIUS}) select the same metric; DCGM 4.7's base-unit
 * names in another unit than the older name ({@code DCGM_FI_DEV_SM_CLOCK_HERTZ}) have entries of their own,
 * rendered from the same reading through a {@link UnitScale}. {@link DefaultSet} names the bundled sets.
 */
public final class MetricCatalog {
    private static final List<MetricDef> ALL = List.of(
            // ---- default set, in dcgm-exporter's order
            d("DCGM_FI_DEV_SM_CLOCK", GAUGE, "SM clock frequency (in MHz).", "MHz", Reading.SM_CLOCK_MHZ, 100),
            d("DCGM_FI_DEV_MEM_CLOCK", GAUGE, "Memory clock frequency (in MHz).", "MHz", Reading.MEM_CLOCK_MHZ, 101),
            d("DCGM_FI_DEV_MEMORY_TEMP", GAUGE, "Memory temperature (in C).", "C", Reading.MEMORY_TEMP_C, 140),
            d("DCGM_FI_DEV_GPU_TEMP", GAUGE, "GPU temperature (in C).", "C", Reading.GPU_TEMP_C, 150),
            d("DCGM_FI_DEV_POWER_USAGE", GAUGE, "Power draw (in W).", "W", Reading.POWER_USAGE_W, 155),
            d("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", COUNTER, "Total energy consumption since boot (in mJ).", "mJ",
                    Reading.TOTAL_ENERGY_MJ, 156),
            d("DCGM_FI_DEV_PCIE_REPLAY_COUNTER", COUNTER, "Total number of PCIe retries.", "count",
                    Reading.PCIE_REPLAY_COUNTER, 202),
            d("DCGM_FI_DEV_GPU_UTIL", GAUGE, "GPU utilization (in %).", "%", Reading.GPU_UTIL_PCT, 203),
            d("DCGM_FI_DEV_MEM_COPY_UTIL", GAUGE, "Memory utilization (in %).", "%", Reading.MEM_COPY_UTIL_PCT, 204),
            d("DCGM_FI_DEV_ENC_UTIL", GAUGE, "Encoder utilization (in %).", "%", Reading.ENC_UTIL_PCT, 206),
            d("DCGM_FI_DEV_DEC_UTIL", GAUGE, "Decoder utilization (in %).", "%", Reading.DEC_UTIL_PCT, 207),
            d("DCGM_FI_DEV_XID_ERRORS", GAUGE, "Value of the last XID error encountered.", "code", null, 230),
            d("DCGM_FI_DEV_FB_FREE", GAUGE, "Framebuffer memory free (in MiB).", "MiB", Reading.FB_FREE_MIB, 251),
            d("DCGM_FI_DEV_FB_USED", GAUGE, "Framebuffer memory used (in MiB).", "MiB", Reading.FB_USED_MIB, 252),
            d("DCGM_FI_DEV_FB_RESERVED", GAUGE, "Framebuffer memory reserved (in MiB).", "MiB", Reading.FB_RESERVED_MIB, 253),
            d("DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL", COUNTER, "Total number of NVLink bandwidth counters for all lanes.",
                    "KiB", Reading.NVLINK_BANDWIDTH_TOTAL_KIB, 449),
            d("DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS", COUNTER, "Number of remapped rows for uncorrectable errors",
                    "rows", Reading.REMAPPED_ROWS_UNCORRECTABLE, 393),
            d("DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS", COUNTER, "Number of remapped rows for correctable errors",
                    "rows", Reading.REMAPPED_ROWS_CORRECTABLE, 394),
            d("DCGM_FI_DEV_ROW_REMAP_FAILURE", GAUGE, "Whether remapping of rows has failed", "0/1",
                    Reading.ROW_REMAP_FAILURE, 395),
            d("DCGM_FI_DRIVER_VERSION", LABEL, "Driver Version", "", null, 1),
            d("DCGM_FI_PROF_GR_ENGINE_ACTIVE", GAUGE, "Ratio of time the graphics engine is active.", "ratio",
                    Reading.GR_ENGINE_ACTIVE, 1001),
            d("DCGM_FI_PROF_PIPE_TENSOR_ACTIVE", GAUGE, "Ratio of cycles the tensor (HMMA) pipe is active.", "ratio",
                    Reading.PIPE_TENSOR_ACTIVE, 1004),
            d("DCGM_FI_PROF_DRAM_ACTIVE", GAUGE,
                    "Ratio of cycles the device memory interface is active sending or receiving data.", "ratio",
                    Reading.DRAM_ACTIVE, 1005),
            d("DCGM_FI_PROF_PCIE_TX_BYTES", GAUGE, "The rate of data transmitted over the PCIe bus - including both "
                    + "protocol headers and data payloads - in bytes per second.", "B/s", Reading.PCIE_TX_BYTES_PER_SEC, 1009),
            d("DCGM_FI_PROF_PCIE_RX_BYTES", GAUGE, "The rate of data received over the PCIe bus - including both "
                    + "protocol headers and data payloads - in bytes per second.", "B/s", Reading.PCIE_RX_BYTES_PER_SEC, 1010),

            // ---- opt-in set
            o("DCGM_FI_DEV_VIDEO_CLOCK", GAUGE, "Video encoder/decoder clock frequency (in MHz).", "MHz",
                    Reading.VIDEO_CLOCK_MHZ, 102),
            o("DCGM_FI_DEV_MAX_SM_CLOCK", GAUGE, "Maximum SM clock frequency (in MHz).", "MHz", Reading.MAX_SM_CLOCK_MHZ, 113),
            o("DCGM_FI_DEV_MAX_MEM_CLOCK", GAUGE, "Maximum memory clock frequency (in MHz).", "MHz",
                    Reading.MAX_MEM_CLOCK_MHZ, 114),
            o("DCGM_FI_DEV_CLOCK_THROTTLE_REASONS", GAUGE, "Current clock throttle reasons (bitmask).", "bitmask",
                    Reading.CLOCK_EVENT_REASONS, 112),
            o("DCGM_FI_DEV_POWER_VIOLATION", COUNTER, "Throttling duration due to power constraints (in ns).", "ns",
                    Reading.POWER_VIOLATION_NS, 240),
            o("DCGM_FI_DEV_THERMAL_VIOLATION", COUNTER, "Throttling duration due to thermal constraints (in ns).", "ns",
                    Reading.THERMAL_VIOLATION_NS, 241),
            o("DCGM_FI_DEV_SYNC_BOOST_VIOLATION", COUNTER, "Throttling duration due to sync-boost constraints (in ns).",
                    "ns", Reading.SYNC_BOOST_VIOLATION_NS, 242),
            o("DCGM_FI_DEV_BOARD_LIMIT_VIOLATION", COUNTER, "Throttling duration due to board limit constraints (in ns).",
                    "ns", Reading.BOARD_LIMIT_VIOLATION_NS, 243),
            o("DCGM_FI_DEV_LOW_UTIL_VIOLATION", COUNTER, "Throttling duration due to low utilization (in ns).", "ns",
                    Reading.LOW_UTIL_VIOLATION_NS, 244),
            o("DCGM_FI_DEV_RELIABILITY_VIOLATION", COUNTER, "Throttling duration due to reliability constraints (in ns).",
                    "ns", Reading.RELIABILITY_VIOLATION_NS, 245),
            o("DCGM_FI_DEV_MEM_MAX_OP_TEMP", GAUGE, "Maximum operating temperature for the memory (in C).", "C",
                    Reading.MEM_MAX_OP_TEMP_C, 151),
            o("DCGM_FI_DEV_GPU_MAX_OP_TEMP", GAUGE, "Maximum operating temperature for the GPU (in C).", "C",
                    Reading.GPU_MAX_OP_TEMP_C, 152),
            o("DCGM_FI_DEV_SLOWDOWN_TEMP", GAUGE, "Slowdown temperature threshold (in C).", "C", Reading.SLOWDOWN_TEMP_C, 158),
            o("DCGM_FI_DEV_SHUTDOWN_TEMP", GAUGE, "Shutdown temperature threshold (in C).", "C", Reading.SHUTDOWN_TEMP_C, 159),
            o("DCGM_FI_DEV_POWER_USAGE_INSTANT", GAUGE, "Current instantaneous power usage (in W).", "W",
                    Reading.POWER_INSTANT_W, 157),
            o("DCGM_FI_DEV_POWER_MGMT_LIMIT", GAUGE, "Power management limit (in W).", "W", Reading.POWER_LIMIT_W, 160),
            o("DCGM_FI_DEV_POWER_MGMT_LIMIT_MIN", GAUGE, "Minimum power management limit (in W).", "W",
                    Reading.POWER_MIN_LIMIT_W, 161),
            o("DCGM_FI_DEV_POWER_MGMT_LIMIT_MAX", GAUGE, "Maximum power management limit (in W).", "W",
                    Reading.POWER_MAX_LIMIT_W, 162),
            o("DCGM_FI_DEV_POWER_MGMT_LIMIT_DEF", GAUGE, "Default power management limit (in W).", "W",
                    Reading.POWER_DEFAULT_LIMIT_W, 163),
            o("DCGM_FI_DEV_ENFORCED_POWER_LIMIT", GAUGE, "Effective power limit that the driver enforces (in W).", "W",
                    Reading.ENFORCED_POWER_LIMIT_W, 164),
            o("DCGM_FI_DEV_PSTATE", GAUGE, "Performance state (P-State) 0-15. 0=highest.", "P-state", Reading.PSTATE, 190),
            o("DCGM_FI_DEV_FAN_SPEED", GAUGE, "Fan speed for the device in percent 0-100.", "%", Reading.FAN_SPEED_PCT, 191),
            o("DCGM_FI_DEV_PCIE_MAX_LINK_GEN", GAUGE, "PCIe maximum link generation.", "gen", Reading.PCIE_MAX_LINK_GEN, 235),
            o("DCGM_FI_DEV_PCIE_MAX_LINK_WIDTH", GAUGE, "PCIe maximum link width (in lanes).", "lanes",
                    Reading.PCIE_MAX_LINK_WIDTH, 236),
            o("DCGM_FI_DEV_PCIE_LINK_GEN", GAUGE, "PCIe current link generation.", "gen", Reading.PCIE_LINK_GEN, 237),
            o("DCGM_FI_DEV_PCIE_LINK_WIDTH", GAUGE, "PCIe current link width (in lanes).", "lanes",
                    Reading.PCIE_LINK_WIDTH, 238),
            o("DCGM_FI_DEV_FB_TOTAL", GAUGE, "Framebuffer memory total (in MiB).", "MiB", Reading.FB_TOTAL_MIB, 250),
            o("DCGM_FI_DEV_ECC_CURRENT", GAUGE, "Current ECC mode (1 = enabled).", "0/1", Reading.ECC_CURRENT, 300),
            o("DCGM_FI_DEV_ECC_PENDING", GAUGE, "Pending ECC mode, after the next reset (1 = enabled).", "0/1",
                    Reading.ECC_PENDING, 301),
            o("DCGM_FI_DEV_ECC_SBE_VOL_TOTAL", COUNTER, "Total number of single-bit volatile ECC errors.", "errors",
                    Reading.ECC_SBE_VOLATILE, 310),
            o("DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", COUNTER, "Total number of double-bit volatile ECC errors.", "errors",
                    Reading.ECC_DBE_VOLATILE, 311),
            o("DCGM_FI_DEV_ECC_SBE_AGG_TOTAL", COUNTER, "Total number of single-bit persistent ECC errors.", "errors",
                    Reading.ECC_SBE_AGGREGATE, 312),
            o("DCGM_FI_DEV_ECC_DBE_AGG_TOTAL", COUNTER, "Total number of double-bit persistent ECC errors.", "errors",
                    Reading.ECC_DBE_AGGREGATE, 313),
            o("DCGM_FI_DEV_RETIRED_SBE", COUNTER, "Total number of retired pages due to single-bit errors.", "pages",
                    Reading.RETIRED_PAGES_SBE, 390),
            o("DCGM_FI_DEV_RETIRED_DBE", COUNTER, "Total number of retired pages due to double-bit errors.", "pages",
                    Reading.RETIRED_PAGES_DBE, 391),
            o("DCGM_FI_DEV_RETIRED_PENDING", COUNTER, "Total number of pages pending retirement.", "0/1",
                    Reading.RETIRED_PAGES_PENDING, 392),
            o("DCGM_FI_DEV_ROW_REMAP_PENDING", GAUGE, "Whether remapping of rows is pending (a GPU reset applies it)",
                    "0/1", Reading.ROW_REMAP_PENDING, 396),
            o("DCGM_FI_DEV_NVLINK_CRC_FLIT_ERROR_COUNT_TOTAL", COUNTER, "Total number of NVLink flow-control CRC errors.",
                    "errors", Reading.NVLINK_CRC_FLIT_ERRORS, 409),
            o("DCGM_FI_DEV_NVLINK_CRC_DATA_ERROR_COUNT_TOTAL", COUNTER, "Total number of NVLink data CRC errors.",
                    "errors", Reading.NVLINK_CRC_DATA_ERRORS, 419),
            o("DCGM_FI_DEV_NVLINK_REPLAY_ERROR_COUNT_TOTAL", COUNTER, "Total number of NVLink retries.", "errors",
                    Reading.NVLINK_REPLAY_ERRORS, 429),
            o("DCGM_FI_DEV_NVLINK_RECOVERY_ERROR_COUNT_TOTAL", COUNTER, "Total number of NVLink recovery errors.",
                    "errors", Reading.NVLINK_RECOVERY_ERRORS, 439),
            o("DCGM_FI_PROF_SM_ACTIVE", GAUGE, "The ratio of cycles an SM has at least 1 warp assigned.", "ratio",
                    Reading.SM_ACTIVE, 1002),
            o("DCGM_FI_PROF_SM_OCCUPANCY", GAUGE, "The ratio of number of warps resident on an SM.", "ratio",
                    Reading.SM_OCCUPANCY, 1003),
            o("DCGM_FI_PROF_PIPE_FP64_ACTIVE", GAUGE, "Ratio of cycles the fp64 pipes are active.", "ratio",
                    Reading.PIPE_FP64_ACTIVE, 1006),
            o("DCGM_FI_PROF_PIPE_FP32_ACTIVE", GAUGE, "Ratio of cycles the fp32 pipes are active.", "ratio",
                    Reading.PIPE_FP32_ACTIVE, 1007),
            o("DCGM_FI_PROF_PIPE_FP16_ACTIVE", GAUGE, "Ratio of cycles the fp16 pipes are active.", "ratio",
                    Reading.PIPE_FP16_ACTIVE, 1008),
            o("DCGM_FI_PROF_NVLINK_TX_BYTES", GAUGE, "The rate of data transmitted over NVLink, not including "
                    + "protocol headers, in bytes per second.", "B/s", Reading.NVLINK_TX_BYTES_PER_SEC, 1011),
            o("DCGM_FI_PROF_NVLINK_RX_BYTES", GAUGE, "The rate of data received over NVLink, not including "
                    + "protocol headers, in bytes per second.", "B/s", Reading.NVLINK_RX_BYTES_PER_SEC, 1012),
            o("DCGM_FI_PROF_PIPE_TENSOR_IMMA_ACTIVE", GAUGE, "Ratio of cycles the tensor (IMMA) pipe is active.", "ratio",
                    Reading.PIPE_TENSOR_IMMA_ACTIVE, 1013),
            o("DCGM_FI_PROF_PIPE_TENSOR_HMMA_ACTIVE", GAUGE, "Ratio of cycles the tensor (HMMA) pipe is active.", "ratio",
                    Reading.PIPE_TENSOR_HMMA_ACTIVE, 1014),
            o("DCGM_FI_PROF_PIPE_TENSOR_DFMA_ACTIVE", GAUGE, "Ratio of cycles the tensor (DFMA) pipe is active.", "ratio",
                    Reading.PIPE_TENSOR_DFMA_ACTIVE, 1015),
            o("DCGM_FI_PROF_PIPE_INT_ACTIVE", GAUGE, "Ratio of cycles the integer pipe is active.", "ratio",
                    Reading.PIPE_INT_ACTIVE, 1016),
            o("DCGM_FI_DEV_GET_GPU_RECOVERY_ACTION", GAUGE, "Recovery action the driver recommends (0 none, "
                    + "1 GPU reset, 2 node reboot, 3 drain P2P, 4 drain and reset).", "action", Reading.RECOVERY_ACTION, 1523),
            o("DCGM_FI_DEV_FABRIC_HEALTH_MASK", GAUGE, "GPU fabric health mask (NVML_GPU_FABRIC_HEALTH_MASK_* bit fields).",
                    "bitmask", Reading.FABRIC_HEALTH_MASK, 174),
            o("DCGM_FI_DEV_FABRIC_HEALTH_SUMMARY", GAUGE, "GPU fabric health summary (0 not supported, 1 healthy, "
                    + "2 unhealthy, 3 limited capacity).", "summary", Reading.FABRIC_HEALTH_SUMMARY, 175),
            o("DCGM_FI_DEV_SERIAL", LABEL, "Device Serial Number", "", null, 53),
            o("DCGM_FI_DEV_VBIOS_VERSION", LABEL, "VBIOS version of the device", "", null, 85),

            // ---- DCGM 4.7's base-unit names (dcgm-exporter 4.9+) whose unit differs from the older name's:
            // the same reading, scaled where it is written. Names and ids: DCGM's dcgm_fields.h as go-dcgm
            // carries it (docs/metrics.md cites the commit). Same-unit renames (DCGM_FI_DEV_GPU_TEMP_CELSIUS,
            // DCGM_FI_DEV_BOARD_POWER_WATTS, ...) need no entry: they resolve through their field id.
            s("DCGM_FI_DEV_SM_CLOCK_HERTZ", GAUGE, "SM clock frequency (in Hz).", "Hz", Reading.SM_CLOCK_MHZ, 1603,
                    UnitScale.MEGAHERTZ_TO_HERTZ),
            s("DCGM_FI_DEV_MEMORY_CLOCK_HERTZ", GAUGE, "Memory clock frequency (in Hz).", "Hz", Reading.MEM_CLOCK_MHZ,
                    1604, UnitScale.MEGAHERTZ_TO_HERTZ),
            s("DCGM_FI_DEV_VIDEO_CLOCK_HERTZ", GAUGE, "Video encoder/decoder clock frequency (in Hz).", "Hz",
                    Reading.VIDEO_CLOCK_MHZ, 1605, UnitScale.MEGAHERTZ_TO_HERTZ),
            s("DCGM_FI_DEV_SM_MAX_CLOCK_HERTZ", GAUGE, "Maximum SM clock frequency (in Hz).", "Hz",
                    Reading.MAX_SM_CLOCK_MHZ, 1608, UnitScale.MEGAHERTZ_TO_HERTZ),
            s("DCGM_FI_DEV_MEMORY_MAX_CLOCK_HERTZ", GAUGE, "Maximum memory clock frequency (in Hz).", "Hz",
                    Reading.MAX_MEM_CLOCK_MHZ, 1609, UnitScale.MEGAHERTZ_TO_HERTZ),
            s("DCGM_FI_DEV_GPU_ENERGY_JOULES_TOTAL", COUNTER,
                    "Total energy consumption since the driver was last reloaded (in J).", "J", Reading.TOTAL_ENERGY_MJ,
                    1611, UnitScale.MILLIJOULES_TO_JOULES),
            s("DCGM_FI_DEV_FAN_SPEED_RATIO", GAUGE, "Fan speed as a ratio of its maximum (0-1; may exceed 1).", "ratio",
                    Reading.FAN_SPEED_PCT, 1612, UnitScale.PERCENT_TO_RATIO),
            // Field 203's name in DCGM 4.6.1's header, where its value was still a percentage; dcgm-exporter 4.9
            // serves utilization as a 0-1 ratio, and the name promises one. Listed here so that it does not
            // resolve through id 203 to DCGM_FI_DEV_GPU_UTIL's percentage.
            s("DCGM_FI_DEV_GPU_UTIL_RATIO", GAUGE, "GPU utilization (ratio 0-1).", "ratio", Reading.GPU_UTIL_PCT, 203,
                    UnitScale.PERCENT_TO_RATIO),
            // dcgm-exporter 4.9.0's release note: collected by default, total GPU memory in bytes. Its field id is
            // in no source read here. Whole MiB x 2^20: the agent reads memory in whole MiB, as DCGM_FI_DEV_FB_TOTAL.
            s("DCGM_FI_DEV_FB_CAPACITY_BYTES", GAUGE, "Total GPU memory (in bytes).", "B", Reading.FB_TOTAL_MIB,
                    MetricDef.FIELD_ID_NOT_CONFIRMED, UnitScale.MEBIBYTES_TO_BYTES),
            // dcgm-exporter 4.10.0's renames of fields 1009-1012: still bytes per second.
            s("DCGM_FI_PROF_PCIE_TX_BYTES_PER_SECOND", GAUGE, "The rate of data transmitted over the PCIe bus - "
                    + "including both protocol headers and data payloads - in bytes per second.", "B/s",
                    Reading.PCIE_TX_BYTES_PER_SEC, 1009, UnitScale.NONE),
            s("DCGM_FI_PROF_PCIE_RX_BYTES_PER_SECOND", GAUGE, "The rate of data received over the PCIe bus - "
                    + "including both protocol headers and data payloads - in bytes per second.", "B/s",
                    Reading.PCIE_RX_BYTES_PER_SEC, 1010, UnitScale.NONE),
            s("DCGM_FI_PROF_NVLINK_TX_BYTES_PER_SECOND", GAUGE, "The rate of data transmitted over NVLink, not "
                    + "including protocol headers, in bytes per second.", "B/s", Reading.NVLINK_TX_BYTES_PER_SEC, 1011,
                    UnitScale.NONE),
            s("DCGM_FI_PROF_NVLINK_RX_BYTES_PER_SECOND", GAUGE, "The rate of data received over NVLink, not "
                    + "including protocol headers, in bytes per second.", "B/s", Reading.NVLINK_RX_BYTES_PER_SEC, 1012,
                    UnitScale.NONE),

            // ---- dcgm-exporter's own families (4.8.3+; opt-in there too): cumulative since the agent started
            o("DCGM_EXP_XID_ERRORS_TOTAL", COUNTER, "Total XID errors observed since exporter start.", "errors", null,
                    MetricDef.XID_ERRORS_TOTAL_ID),
            o("DCGM_EXP_CLOCK_EVENTS_TOTAL", COUNTER,
                    "Total clock events observed since exporter start (edge-counted).", "events", null,
                    MetricDef.CLOCK_EVENTS_TOTAL_ID));

    /**
     * dcgm-exporter's other own families (windowed counts, health, P2P): a counters file naming them is not
     * wrong, the agent just does not serve them (the skip warning, as for a DCGM-only field).
     */
    private static final Set<String> EXPORTER_FAMILIES_NOT_SUPPLIED = Set.of("DCGM_EXP_XID_ERRORS_COUNT",
            "DCGM_EXP_CLOCK_EVENTS_COUNT", "DCGM_EXP_GPU_HEALTH_STATUS", "DCGM_EXP_P2P_STATUS");

    /** Label fields the writer knows how to render (field id). */
    static final int FIELD_DRIVER_VERSION = 1;
    static final int FIELD_SERIAL = 53;
    static final int FIELD_VBIOS = 85;

    private static final Map<String, Integer> DCGM_FIELDS = loadDcgmFields();
    private static final Map<Integer, MetricDef> BY_ID = byId();

    private MetricCatalog() {
    }

    private static MetricDef d(String name, MetricType type, String help, String unit, Reading source, int id) {
        return new MetricDef(name, type, help, unit, source, true, id, UnitScale.NONE);
    }

    private static MetricDef o(String name, MetricType type, String help, String unit, Reading source, int id) {
        return new MetricDef(name, type, help, unit, source, false, id, UnitScale.NONE);
    }

    /** Opt-in, in another unit than its reading's. */
    private static MetricDef s(String name, MetricType type, String help, String unit, Reading source, int id,
                               UnitScale scale) {
        return new MetricDef(name, type, help, unit, source, false, id, scale);
    }

    /** Every metric, default set first. */
    public static List<MetricDef> all() {
        return ALL;
    }

    /** docs/metrics.md's default set (what {@code default-counters.csv} selects). */
    public static List<MetricDef> defaultSet() {
        return ALL.stream().filter(MetricDef::defaultSet).toList();
    }

    /** The metric for a DCGM field name, canonical or any DCGM alias of the same field id, under that name. */
    public static Optional<MetricDef> byName(String name) {
        for (MetricDef m : ALL) {
            if (m.name().equals(name)) {
                return Optional.of(m);
            }
        }
        Integer id = DCGM_FIELDS.get(name);
        MetricDef def = id == null ? null : BY_ID.get(id);
        return def == null ? Optional.empty() : Optional.of(def.as(name, def.type(), def.help()));
    }

    /** DCGM's field id of a DCGM field name; 0 (DCGM's "unknown field") when it is none. */
    public static int dcgmFieldId(String name) {
        return DCGM_FIELDS.getOrDefault(name, 0);
    }

    /** Whether {@code name} is a field DCGM defines (whether or not the agent can supply it). */
    public static boolean isDcgmField(String name) {
        return DCGM_FIELDS.containsKey(name);
    }

    /**
     * Whether a counters file may name {@code name} although the agent does not serve it: a DCGM field, or a
     * family dcgm-exporter computes itself that the agent does not.
     */
    public static boolean isKnownNotSupplied(String name) {
        return byName(name).isEmpty() && (isDcgmField(name) || EXPORTER_FAMILIES_NOT_SUPPLIED.contains(name));
    }

    /** Every name a counters file may use (catalog names, DCGM fields, dcgm-exporter's own families), sorted. */
    static java.util.SortedSet<String> knownNames() {
        java.util.SortedSet<String> names = new java.util.TreeSet<>(DCGM_FIELDS.keySet());
        names.addAll(EXPORTER_FAMILIES_NOT_SUPPLIED);
        ALL.forEach(m -> names.add(m.name()));
        return names;
    }

    /** The readings the sampler must take to render {@code metrics}. */
    public static Set<Reading> readingsFor(Collection<MetricDef> metrics) {
        EnumSet<Reading> set = EnumSet.noneOf(Reading.class);
        for (MetricDef m : metrics) {
            if (m.source() != null) {
                set.add(m.source());
            }
            if (m.isClockEventsTotal()) {
                set.add(Reading.CLOCK_EVENT_REASONS);
                ClockEvent.all().forEach(e -> set.add(e.total()));
            }
        }
        return Collections.unmodifiableSet(set);
    }

    /**
     * Field id to the metric a DCGM alias of it selects: the first entry with that id, so the older name's
     * entry (listed first) and not a renamed one in another unit. No alias resolves to an entry without a
     * confirmed DCGM field id, or to a family dcgm-exporter computes itself.
     */
    private static Map<Integer, MetricDef> byId() {
        Map<Integer, MetricDef> map = new HashMap<>();
        for (MetricDef m : ALL) {
            if (m.dcgmFieldId() != MetricDef.FIELD_ID_NOT_CONFIRMED && !m.isXidTotal() && !m.isClockEventsTotal()) {
                map.putIfAbsent(m.dcgmFieldId(), m);
            }
        }
        return map;
    }

    private static Map<String, Integer> loadDcgmFields() {
        Map<String, Integer> map = new HashMap<>();
        try (InputStream in = MetricCatalog.class.getResourceAsStream("dcgm-fields.txt")) {
            if (in == null) {
                throw new IllegalStateException("dcgm-fields.txt missing from the exporter jar");
            }
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            List<String> lines = new ArrayList<>(r.lines().toList());
            for (String line : lines) {
                String t = line.strip();
                if (t.isEmpty() || t.startsWith("#")) {
                    continue;
                }
                String[] parts = t.split("\\s+");
                map.put(parts[0], Integer.parseInt(parts[1]));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Map.copyOf(map);
    }
}
