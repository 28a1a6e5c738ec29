package io.gpuagent.nvml.ffm;

import static java.lang.foreign.MemoryLayout.paddingLayout;
import static java.lang.foreign.MemoryLayout.sequenceLayout;
import static java.lang.foreign.MemoryLayout.structLayout;
import static java.lang.foreign.MemoryLayout.unionLayout;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.StructLayout;
import java.lang.foreign.UnionLayout;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Every NVML struct the bindings pass, named and padded as the C compiler lays it out on x86-64
 * (docs/nvml.md#struct-layouts). Padding is explicit: {@code structLayout} rejects a misaligned member, so a forgotten
 * pad fails class initialisation instead of reading the wrong bytes. {@code LayoutCheckTest} compares
 * these with {@code tools/nvml_layout.c}'s output against real headers.
 */
public final class Layouts {

    /** {@code NVML_STRUCT_VERSION(Memory, 2)}: sizeof | 2 << 24. */
    public static final int MEMORY_V2_VERSION = 0x02000028;
    public static final int TEMPERATURE_V1_VERSION = 0x0100000C;
    public static final int POWER_VALUE_V2_VERSION = 0x0200000C;
    /** {@code nvmlGpuFabricInfo_v3}: sizeof 40 | 3 << 24 (570+ drivers; 550 and 560 know only v2). */
    public static final int GPU_FABRIC_INFO_V3_VERSION = 0x03000028;
    /** {@code NVML_GPM_SUPPORT_VERSION} / {@code NVML_GPM_METRICS_GET_VERSION}: plain 1, not size-encoded. */
    public static final int GPM_VERSION = 1;
    /** {@code NVML_GPM_METRIC_MAX} of the 13.3 header: older drivers read only {@code numMetrics} entries. */
    public static final int GPM_METRIC_MAX = 333;
    /** The most metrics one {@code nvmlGpmMetricsGet} may ask for on every driver with GPM (98 up to 12.2). */
    public static final int GPM_METRICS_PER_CALL = 98;
    /** {@code NVML_DEVICE_NAME_V2_BUFFER_SIZE}: the profile name in {@code nvmlGpuInstanceProfileInfo_v2_t}. */
    public static final int PROFILE_NAME_SIZE = 96;

    public static final StructLayout PCI_INFO = structLayout(
            sequenceLayout(16, JAVA_BYTE).withName("busIdLegacy"),
            JAVA_INT.withName("domain"),
            JAVA_INT.withName("bus"),
            JAVA_INT.withName("device"),
            JAVA_INT.withName("pciDeviceId"),
            JAVA_INT.withName("pciSubSystemId"),
            sequenceLayout(32, JAVA_BYTE).withName("busId"));

    public static final StructLayout MEMORY = structLayout(
            JAVA_LONG.withName("total"),
            JAVA_LONG.withName("free"),
            JAVA_LONG.withName("used"));

    public static final StructLayout MEMORY_V2 = structLayout(
            JAVA_INT.withName("version"),
            paddingLayout(4),
            JAVA_LONG.withName("total"),
            JAVA_LONG.withName("reserved"),
            JAVA_LONG.withName("free"),
            JAVA_LONG.withName("used"));

    public static final StructLayout BAR1_MEMORY = structLayout(
            JAVA_LONG.withName("bar1Total"),
            JAVA_LONG.withName("bar1Free"),
            JAVA_LONG.withName("bar1Used"));

    public static final StructLayout UTILIZATION = structLayout(
            JAVA_INT.withName("gpu"),
            JAVA_INT.withName("memory"));

    /**
     * Row-remapper bank availability (Ampere+). Laid out and checked against the headers ahead of its
     * binding ({@code nvmlDeviceGetRowRemapperHistogram} is not bound yet).
     */
    public static final StructLayout ROW_REMAPPER_HISTOGRAM = structLayout(
            JAVA_INT.withName("max"),
            JAVA_INT.withName("high"),
            JAVA_INT.withName("partial"),
            JAVA_INT.withName("low"),
            JAVA_INT.withName("none"));

    /** What {@code _v3} process calls write on some 550 drivers (16-byte stride). */
    public static final StructLayout PROCESS_INFO_V1 = structLayout(
            JAVA_INT.withName("pid"),
            paddingLayout(4),
            JAVA_LONG.withName("usedGpuMemory"));

    /** {@code nvmlProcessInfo_t} (== {@code _v2_t}): what {@code _v3} writes on current drivers. */
    public static final StructLayout PROCESS_INFO = structLayout(
            JAVA_INT.withName("pid"),
            paddingLayout(4),
            JAVA_LONG.withName("usedGpuMemory"),
            JAVA_INT.withName("gpuInstanceId"),
            JAVA_INT.withName("computeInstanceId"));

    /** What {@code _v3} process calls wrote on 535.43–535.86 drivers (32-byte stride). */
    public static final StructLayout PROCESS_DETAIL_V1 = structLayout(
            JAVA_INT.withName("pid"),
            paddingLayout(4),
            JAVA_LONG.withName("usedGpuMemory"),
            JAVA_INT.withName("gpuInstanceId"),
            JAVA_INT.withName("computeInstanceId"),
            JAVA_LONG.withName("usedGpuCcProtectedMemory"));

    public static final UnionLayout VALUE = unionLayout(
            JAVA_DOUBLE.withName("dVal"),
            JAVA_INT.withName("siVal"),
            JAVA_INT.withName("uiVal"),
            JAVA_LONG.withName("ulVal"),
            JAVA_LONG.withName("ullVal"),
            JAVA_LONG.withName("sllVal"),
            JAVA_SHORT.withName("usVal"));

    public static final StructLayout FIELD_VALUE = structLayout(
            JAVA_INT.withName("fieldId"),
            JAVA_INT.withName("scopeId"),
            JAVA_LONG.withName("timestamp"),
            JAVA_LONG.withName("latencyUsec"),
            JAVA_INT.withName("valueType"),
            JAVA_INT.withName("nvmlReturn"),
            VALUE.withName("value"));

    public static final StructLayout EVENT_DATA = structLayout(
            ADDRESS.withName("device"),
            JAVA_LONG.withName("eventType"),
            JAVA_LONG.withName("eventData"),
            JAVA_INT.withName("gpuInstanceId"),
            JAVA_INT.withName("computeInstanceId"));

    public static final StructLayout GPM_METRIC = structLayout(
            JAVA_INT.withName("metricId"),
            JAVA_INT.withName("nvmlReturn"),
            JAVA_DOUBLE.withName("value"),
            structLayout(
                    ADDRESS.withName("shortName"),
                    ADDRESS.withName("longName"),
                    ADDRESS.withName("unit")).withName("metricInfo"));

    public static final StructLayout GPM_METRICS_GET = structLayout(
            JAVA_INT.withName("version"),
            JAVA_INT.withName("numMetrics"),
            ADDRESS.withName("sample1"),
            ADDRESS.withName("sample2"),
            sequenceLayout(GPM_METRIC_MAX, GPM_METRIC).withName("metrics"));

    public static final StructLayout GPM_SUPPORT = structLayout(
            JAVA_INT.withName("version"),
            JAVA_INT.withName("isSupportedDevice"));

    public static final StructLayout TEMPERATURE_V1 = structLayout(
            JAVA_INT.withName("version"),
            JAVA_INT.withName("sensorType"),
            JAVA_INT.withName("temperature"));

    /** {@code nvmlGpuFabricInfo_t}, {@code nvmlDeviceGetGpuFabricInfo}'s (525+): no version, no health. */
    public static final StructLayout GPU_FABRIC_INFO = structLayout(
            sequenceLayout(16, JAVA_BYTE).withName("clusterUuid"),
            JAVA_INT.withName("status"),
            JAVA_INT.withName("cliqueId"),
            JAVA_BYTE.withName("state"),
            paddingLayout(3));

    /** {@code nvmlGpuFabricInfo_v3_t} ({@code nvmlGpuFabricInfoV_t} of the 570+ headers). */
    public static final StructLayout GPU_FABRIC_INFO_V3 = structLayout(
            JAVA_INT.withName("version"),
            sequenceLayout(16, JAVA_BYTE).withName("clusterUuid"),
            JAVA_INT.withName("status"),
            JAVA_INT.withName("cliqueId"),
            JAVA_BYTE.withName("state"),
            paddingLayout(3),
            JAVA_INT.withName("healthMask"),
            JAVA_BYTE.withName("healthSummary"),
            paddingLayout(3));

    public static final StructLayout POWER_VALUE_V2 = structLayout(
            JAVA_INT.withName("version"),
            JAVA_BYTE.withName("powerScope"),
            paddingLayout(3),
            JAVA_INT.withName("powerValueMw"));

    /** Where a GPU instance sits: its first memory slice and how many it holds. */
    public static final StructLayout GPU_INSTANCE_PLACEMENT = structLayout(
            JAVA_INT.withName("start"),
            JAVA_INT.withName("size"));

    /** {@code nvmlGpuInstanceProfileInfo_t}: what the unversioned fallback fills (no version, no name). */
    public static final StructLayout GPU_INSTANCE_PROFILE_INFO = structLayout(
            JAVA_INT.withName("id"),
            JAVA_INT.withName("isP2pSupported"),
            JAVA_INT.withName("sliceCount"),
            JAVA_INT.withName("instanceCount"),
            JAVA_INT.withName("multiprocessorCount"),
            JAVA_INT.withName("copyEngineCount"),
            JAVA_INT.withName("decoderCount"),
            JAVA_INT.withName("encoderCount"),
            JAVA_INT.withName("jpegCount"),
            JAVA_INT.withName("ofaCount"),
            JAVA_LONG.withName("memorySizeMB"));

    /** {@code nvmlGpuInstanceProfileInfo_v2_t}: what {@code nvmlDeviceGetGpuInstanceProfileInfoV} fills. */
    public static final StructLayout GPU_INSTANCE_PROFILE_INFO_V2 = structLayout(
            JAVA_INT.withName("version"),
            JAVA_INT.withName("id"),
            JAVA_INT.withName("isP2pSupported"),
            JAVA_INT.withName("sliceCount"),
            JAVA_INT.withName("instanceCount"),
            JAVA_INT.withName("multiprocessorCount"),
            JAVA_INT.withName("copyEngineCount"),
            JAVA_INT.withName("decoderCount"),
            JAVA_INT.withName("encoderCount"),
            JAVA_INT.withName("jpegCount"),
            JAVA_INT.withName("ofaCount"),
            paddingLayout(4),
            JAVA_LONG.withName("memorySizeMB"),
            sequenceLayout(PROFILE_NAME_SIZE, JAVA_BYTE).withName("name"));

    /** {@code NVML_STRUCT_VERSION(GpuInstanceProfileInfo, 2)}: the struct's size with 2 in the top byte. */
    public static final int GPU_INSTANCE_PROFILE_INFO_V2_VERSION = (int) GPU_INSTANCE_PROFILE_INFO_V2.byteSize() | 2 << 24;

    public static final StructLayout GPU_INSTANCE_INFO = structLayout(
            ADDRESS.withName("device"),
            JAVA_INT.withName("id"),
            JAVA_INT.withName("profileId"),
            GPU_INSTANCE_PLACEMENT.withName("placement"));

    /** {@code nvmlComputeInstanceInfo_t}; its placement counts compute slices within the GPU instance. */
    public static final StructLayout COMPUTE_INSTANCE_INFO = structLayout(
            ADDRESS.withName("device"),
            ADDRESS.withName("gpuInstance"),
            JAVA_INT.withName("id"),
            JAVA_INT.withName("profileId"),
            structLayout(
                    JAVA_INT.withName("start"),
                    JAVA_INT.withName("size")).withName("placement"));

    /** {@code nvmlDeviceAttributes_t} of a MIG device. */
    public static final StructLayout DEVICE_ATTRIBUTES = structLayout(
            JAVA_INT.withName("multiprocessorCount"),
            JAVA_INT.withName("sharedCopyEngineCount"),
            JAVA_INT.withName("sharedDecoderCount"),
            JAVA_INT.withName("sharedEncoderCount"),
            JAVA_INT.withName("sharedJpegCount"),
            JAVA_INT.withName("sharedOfaCount"),
            JAVA_INT.withName("gpuInstanceSliceCount"),
            JAVA_INT.withName("computeInstanceSliceCount"),
            JAVA_LONG.withName("memorySizeMB"));

    private static final Map<String, MemoryLayout> ALL;

    static {
        Map<String, MemoryLayout> all = new LinkedHashMap<>();
        all.put("nvmlPciInfo_t", PCI_INFO);
        all.put("nvmlMemory_t", MEMORY);
        all.put("nvmlMemory_v2_t", MEMORY_V2);
        all.put("nvmlBAR1Memory_t", BAR1_MEMORY);
        all.put("nvmlUtilization_t", UTILIZATION);
        all.put("nvmlRowRemapperHistogramValues_t", ROW_REMAPPER_HISTOGRAM);
        all.put("nvmlProcessInfo_v1_t", PROCESS_INFO_V1);
        all.put("nvmlProcessInfo_t", PROCESS_INFO);
        all.put("nvmlProcessDetail_v1_t", PROCESS_DETAIL_V1);
        all.put("nvmlValue_t", VALUE);
        all.put("nvmlFieldValue_t", FIELD_VALUE);
        all.put("nvmlEventData_t", EVENT_DATA);
        all.put("nvmlGpmMetric_t", GPM_METRIC);
        all.put("nvmlGpmMetricsGet_t", GPM_METRICS_GET);
        all.put("nvmlGpmSupport_t", GPM_SUPPORT);
        all.put("nvmlTemperature_v1_t", TEMPERATURE_V1);
        all.put("nvmlPowerValue_v2_t", POWER_VALUE_V2);
        all.put("nvmlGpuFabricInfo_t", GPU_FABRIC_INFO);
        all.put("nvmlGpuFabricInfo_v3_t", GPU_FABRIC_INFO_V3);
        all.put("nvmlGpuInstancePlacement_t", GPU_INSTANCE_PLACEMENT);
        all.put("nvmlGpuInstanceProfileInfo_t", GPU_INSTANCE_PROFILE_INFO);
        all.put("nvmlGpuInstanceProfileInfo_v2_t", GPU_INSTANCE_PROFILE_INFO_V2);
        all.put("nvmlGpuInstanceInfo_t", GPU_INSTANCE_INFO);
        all.put("nvmlComputeInstanceInfo_t", COMPUTE_INSTANCE_INFO);
        all.put("nvmlDeviceAttributes_t", DEVICE_ATTRIBUTES);
        ALL = Collections.unmodifiableMap(all);
    }

    private Layouts() {
    }

    /** Every struct the bindings use, keyed by its C name (the names {@code tools/nvml_layout.c} prints). */
    public static Map<String, MemoryLayout> all() {
        return ALL;
    }

    /** Byte offset of a (possibly nested) member, e.g. {@code offset(FIELD_VALUE, "value")}. */
    static long offset(MemoryLayout layout, String... path) {
        PathElement[] elements = new PathElement[path.length];
        for (int i = 0; i < path.length; i++) {
            elements[i] = PathElement.groupElement(path[i]);
        }
        return layout.byteOffset(elements);
    }
}
