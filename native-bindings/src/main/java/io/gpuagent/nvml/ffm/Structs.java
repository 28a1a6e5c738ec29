package io.gpuagent.nvml.ffm;

import static io.gpuagent.nvml.ffm.Layouts.offset;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.gpuagent.nvml.Bar1Memory;
import io.gpuagent.nvml.ComputeInstance;
import io.gpuagent.nvml.FabricInfo;
import io.gpuagent.nvml.FieldRequest;
import io.gpuagent.nvml.FieldValue;
import io.gpuagent.nvml.GpmMetricValue;
import io.gpuagent.nvml.GpuInstance;
import io.gpuagent.nvml.GpuInstanceProfile;
import io.gpuagent.nvml.MemoryInfo;
import io.gpuagent.nvml.MigAttributes;
import io.gpuagent.nvml.PciInfo;
import io.gpuagent.nvml.ProcessInfo;
import io.gpuagent.nvml.Utilization;
import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Reads and writes the structs of {@link Layouts}: the one place that knows member offsets. Offsets come from
 * the layouts by member name, never as numbers, so a layout fix moves every reader with it.
 */
final class Structs {

    private static final long PCI_DOMAIN = offset(Layouts.PCI_INFO, "domain");
    private static final long PCI_BUS = offset(Layouts.PCI_INFO, "bus");
    private static final long PCI_DEVICE = offset(Layouts.PCI_INFO, "device");
    private static final long PCI_DEVICE_ID = offset(Layouts.PCI_INFO, "pciDeviceId");
    private static final long PCI_SUBSYSTEM_ID = offset(Layouts.PCI_INFO, "pciSubSystemId");
    private static final long PCI_BUS_ID_LEGACY = offset(Layouts.PCI_INFO, "busIdLegacy");
    private static final long PCI_BUS_ID = offset(Layouts.PCI_INFO, "busId");
    private static final long MEM2_TOTAL = offset(Layouts.MEMORY_V2, "total");
    private static final long MEM2_RESERVED = offset(Layouts.MEMORY_V2, "reserved");
    private static final long MEM2_FREE = offset(Layouts.MEMORY_V2, "free");
    private static final long MEM2_USED = offset(Layouts.MEMORY_V2, "used");
    private static final long MEM_TOTAL = offset(Layouts.MEMORY, "total");
    private static final long MEM_FREE = offset(Layouts.MEMORY, "free");
    private static final long MEM_USED = offset(Layouts.MEMORY, "used");
    private static final long BAR1_TOTAL = offset(Layouts.BAR1_MEMORY, "bar1Total");
    private static final long BAR1_FREE = offset(Layouts.BAR1_MEMORY, "bar1Free");
    private static final long BAR1_USED = offset(Layouts.BAR1_MEMORY, "bar1Used");
    private static final long UTIL_GPU = offset(Layouts.UTILIZATION, "gpu");
    private static final long UTIL_MEMORY = offset(Layouts.UTILIZATION, "memory");
    private static final long TEMP_SENSOR = offset(Layouts.TEMPERATURE_V1, "sensorType");
    private static final long TEMP_VALUE = offset(Layouts.TEMPERATURE_V1, "temperature");
    private static final long POWER_SCOPE = offset(Layouts.POWER_VALUE_V2, "powerScope");
    private static final long POWER_VALUE = offset(Layouts.POWER_VALUE_V2, "powerValueMw");
    private static final long PROC_PID = offset(Layouts.PROCESS_INFO, "pid");
    private static final long PROC_MEMORY = offset(Layouts.PROCESS_INFO, "usedGpuMemory");
    private static final long PROC_GI = offset(Layouts.PROCESS_INFO, "gpuInstanceId");
    private static final long PROC_CI = offset(Layouts.PROCESS_INFO, "computeInstanceId");
    private static final long FV_FIELD_ID = offset(Layouts.FIELD_VALUE, "fieldId");
    private static final long FV_SCOPE_ID = offset(Layouts.FIELD_VALUE, "scopeId");
    private static final long FV_TIMESTAMP = offset(Layouts.FIELD_VALUE, "timestamp");
    private static final long FV_VALUE_TYPE = offset(Layouts.FIELD_VALUE, "valueType");
    private static final long FV_RETURN = offset(Layouts.FIELD_VALUE, "nvmlReturn");
    private static final long FV_VALUE = offset(Layouts.FIELD_VALUE, "value");
    private static final long GPM_SUPPORTED = offset(Layouts.GPM_SUPPORT, "isSupportedDevice");
    private static final long GPM_NUM_METRICS = offset(Layouts.GPM_METRICS_GET, "numMetrics");
    private static final long GPM_SAMPLE1 = offset(Layouts.GPM_METRICS_GET, "sample1");
    private static final long GPM_SAMPLE2 = offset(Layouts.GPM_METRICS_GET, "sample2");
    private static final long GPM_METRICS = offset(Layouts.GPM_METRICS_GET, "metrics");
    private static final long GPM_METRIC_ID = offset(Layouts.GPM_METRIC, "metricId");
    private static final long GPM_METRIC_RETURN = offset(Layouts.GPM_METRIC, "nvmlReturn");
    private static final long GPM_METRIC_VALUE = offset(Layouts.GPM_METRIC, "value");
    /** The profile members in the order of the record's numbers: the same names in v1 and v2, at other offsets. */
    private static final String[] PROFILE_MEMBERS = {"id", "isP2pSupported", "sliceCount", "instanceCount",
        "multiprocessorCount", "copyEngineCount", "decoderCount", "encoderCount", "jpegCount", "ofaCount", "memorySizeMB"};
    private static final long[] GIP1 = offsets(Layouts.GPU_INSTANCE_PROFILE_INFO, PROFILE_MEMBERS);
    private static final long[] GIP2 = offsets(Layouts.GPU_INSTANCE_PROFILE_INFO_V2, PROFILE_MEMBERS);
    private static final long GIP2_NAME = offset(Layouts.GPU_INSTANCE_PROFILE_INFO_V2, "name");
    private static final long GI_ID = offset(Layouts.GPU_INSTANCE_INFO, "id");
    private static final long GI_PROFILE = offset(Layouts.GPU_INSTANCE_INFO, "profileId");
    private static final long GI_START = offset(Layouts.GPU_INSTANCE_INFO, "placement", "start");
    private static final long GI_SIZE = offset(Layouts.GPU_INSTANCE_INFO, "placement", "size");
    private static final long CI_ID = offset(Layouts.COMPUTE_INSTANCE_INFO, "id");
    private static final long CI_PROFILE = offset(Layouts.COMPUTE_INSTANCE_INFO, "profileId");
    private static final long CI_START = offset(Layouts.COMPUTE_INSTANCE_INFO, "placement", "start");
    private static final long CI_SIZE = offset(Layouts.COMPUTE_INSTANCE_INFO, "placement", "size");
    private static final long[] ATTR = offsets(Layouts.DEVICE_ATTRIBUTES, "multiprocessorCount", "sharedCopyEngineCount",
            "sharedDecoderCount", "sharedEncoderCount", "sharedJpegCount", "sharedOfaCount", "gpuInstanceSliceCount",
            "computeInstanceSliceCount", "memorySizeMB");

    private Structs() {
    }

    private static long[] offsets(MemoryLayout layout, String... members) {
        long[] at = new long[members.length];
        for (int i = 0; i < members.length; i++) {
            at[i] = offset(layout, members[i]);
        }
        return at;
    }

    private static final long FABRIC_UUID = Layouts.offset(Layouts.GPU_FABRIC_INFO, "clusterUuid");
    private static final long FABRIC_STATUS = Layouts.offset(Layouts.GPU_FABRIC_INFO, "status");
    private static final long FABRIC_CLIQUE = Layouts.offset(Layouts.GPU_FABRIC_INFO, "cliqueId");
    private static final long FABRIC_STATE = Layouts.offset(Layouts.GPU_FABRIC_INFO, "state");
    private static final long FABRIC_V3_UUID = Layouts.offset(Layouts.GPU_FABRIC_INFO_V3, "clusterUuid");
    private static final long FABRIC_V3_STATUS = Layouts.offset(Layouts.GPU_FABRIC_INFO_V3, "status");
    private static final long FABRIC_V3_CLIQUE = Layouts.offset(Layouts.GPU_FABRIC_INFO_V3, "cliqueId");
    private static final long FABRIC_V3_STATE = Layouts.offset(Layouts.GPU_FABRIC_INFO_V3, "state");
    private static final long FABRIC_V3_MASK = Layouts.offset(Layouts.GPU_FABRIC_INFO_V3, "healthMask");
    private static final long FABRIC_V3_SUMMARY = Layouts.offset(Layouts.GPU_FABRIC_INFO_V3, "healthSummary");

    static FabricInfo fabricInfoV3(MemorySegment s) {
        return new FabricInfo(FabricInfo.uuid(s.asSlice(FABRIC_V3_UUID, 16).toArray(JAVA_BYTE)),
                s.get(JAVA_INT, FABRIC_V3_STATUS), Integer.toUnsignedLong(s.get(JAVA_INT, FABRIC_V3_CLIQUE)),
                Byte.toUnsignedInt(s.get(JAVA_BYTE, FABRIC_V3_STATE)),
                Integer.toUnsignedLong(s.get(JAVA_INT, FABRIC_V3_MASK)),
                Byte.toUnsignedInt(s.get(JAVA_BYTE, FABRIC_V3_SUMMARY)));
    }

    static FabricInfo fabricInfo(MemorySegment s) {
        return new FabricInfo(FabricInfo.uuid(s.asSlice(FABRIC_UUID, 16).toArray(JAVA_BYTE)), s.get(JAVA_INT, FABRIC_STATUS),
                Integer.toUnsignedLong(s.get(JAVA_INT, FABRIC_CLIQUE)), Byte.toUnsignedInt(s.get(JAVA_BYTE, FABRIC_STATE)),
                -1, -1);
    }

    /** Sets the {@code version} member every versioned struct starts with. */
    static MemorySegment versioned(MemorySegment s, int version) {
        s.set(JAVA_INT, 0, version);
        return s;
    }

    static PciInfo pciInfo(MemorySegment s) {
        return new PciInfo(Native.string(s.asSlice(PCI_BUS_ID_LEGACY, 16)), s.get(JAVA_INT, PCI_DOMAIN),
                s.get(JAVA_INT, PCI_BUS), s.get(JAVA_INT, PCI_DEVICE), s.get(JAVA_INT, PCI_DEVICE_ID),
                s.get(JAVA_INT, PCI_SUBSYSTEM_ID), Native.string(s.asSlice(PCI_BUS_ID, 32)));
    }

    /** An {@code nvmlPciInfo_t} for the drain/remove calls, which take the struct rather than a handle. */
    static MemorySegment pciInfo(Arena arena, PciInfo pci) {
        Objects.requireNonNull(pci, "pci");
        MemorySegment s = arena.allocate(Layouts.PCI_INFO);
        Native.putString(s, PCI_BUS_ID_LEGACY, 16, pci.busIdLegacy());
        s.set(JAVA_INT, PCI_DOMAIN, pci.domain());
        s.set(JAVA_INT, PCI_BUS, pci.bus());
        s.set(JAVA_INT, PCI_DEVICE, pci.device());
        s.set(JAVA_INT, PCI_DEVICE_ID, pci.pciDeviceId());
        s.set(JAVA_INT, PCI_SUBSYSTEM_ID, pci.pciSubSystemId());
        Native.putString(s, PCI_BUS_ID, 32, pci.busId());
        return s;
    }

    static MemoryInfo memoryV2(MemorySegment m) {
        return new MemoryInfo(m.get(JAVA_LONG, MEM2_TOTAL), m.get(JAVA_LONG, MEM2_RESERVED),
                m.get(JAVA_LONG, MEM2_FREE), m.get(JAVA_LONG, MEM2_USED), true);
    }

    /** The v1 struct has no reserved memory: 0, and {@code hasReserved} false. */
    static MemoryInfo memory(MemorySegment m) {
        return new MemoryInfo(m.get(JAVA_LONG, MEM_TOTAL), 0, m.get(JAVA_LONG, MEM_FREE), m.get(JAVA_LONG, MEM_USED),
                false);
    }

    static Bar1Memory bar1(MemorySegment m) {
        return new Bar1Memory(m.get(JAVA_LONG, BAR1_TOTAL), m.get(JAVA_LONG, BAR1_FREE), m.get(JAVA_LONG, BAR1_USED));
    }

    static Utilization utilization(MemorySegment u) {
        return new Utilization(u.get(JAVA_INT, UTIL_GPU), u.get(JAVA_INT, UTIL_MEMORY));
    }

    /** An {@code nvmlTemperature_v1_t} asking for {@code sensor}. */
    static MemorySegment temperatureRequest(MemorySegment t, int sensor) {
        versioned(t, Layouts.TEMPERATURE_V1_VERSION).set(JAVA_INT, TEMP_SENSOR, sensor);
        return t;
    }

    static int temperature(MemorySegment t) {
        return t.get(JAVA_INT, TEMP_VALUE);
    }

    /** An {@code nvmlPowerValue_v2_t} of {@code milliwatts} for {@code scope}. */
    static MemorySegment powerValue(MemorySegment v, byte scope, int milliwatts) {
        versioned(v, Layouts.POWER_VALUE_V2_VERSION).set(JAVA_BYTE, POWER_SCOPE, scope);
        v.set(JAVA_INT, POWER_VALUE, milliwatts);
        return v;
    }

    /** Field ids and scopes into a zeroed {@code nvmlFieldValue_t[n]}, as NVML asks. */
    static void fieldRequests(MemorySegment values, List<FieldRequest> fields) {
        long size = Layouts.FIELD_VALUE.byteSize();
        for (int i = 0; i < fields.size(); i++) {
            values.set(JAVA_INT, i * size + FV_FIELD_ID, fields.get(i).fieldId());
            values.set(JAVA_INT, i * size + FV_SCOPE_ID, fields.get(i).scopeId());
        }
    }

    static List<FieldValue> fieldValues(MemorySegment values, int n) {
        long size = Layouts.FIELD_VALUE.byteSize();
        List<FieldValue> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            long at = i * size;
            out.add(new FieldValue(values.get(JAVA_INT, at + FV_FIELD_ID), values.get(JAVA_INT, at + FV_SCOPE_ID),
                    values.get(JAVA_INT, at + FV_RETURN), values.get(JAVA_INT, at + FV_VALUE_TYPE),
                    values.get(JAVA_LONG, at + FV_VALUE), values.get(JAVA_LONG, at + FV_TIMESTAMP)));
        }
        return List.copyOf(out);
    }

    /** One process entry; the instance ids only when the driver's stride has room for them (else -1). */
    static ProcessInfo process(MemorySegment e, boolean instanceIds) {
        return new ProcessInfo(e.get(JAVA_INT, PROC_PID), e.get(JAVA_LONG, PROC_MEMORY),
                instanceIds ? e.get(JAVA_INT, PROC_GI) : -1, instanceIds ? e.get(JAVA_INT, PROC_CI) : -1);
    }

    /** A GPU instance profile from the v2 struct, or from the v1 struct (no name: empty). */
    static GpuInstanceProfile gpuInstanceProfile(MemorySegment p, boolean v2) {
        long[] at = v2 ? GIP2 : GIP1;
        String name = v2 ? Native.string(p.asSlice(GIP2_NAME, Layouts.PROFILE_NAME_SIZE)) : "";
        return new GpuInstanceProfile(p.get(JAVA_INT, at[0]), name, p.get(JAVA_INT, at[2]), p.get(JAVA_INT, at[3]),
                p.get(JAVA_INT, at[4]), p.get(JAVA_INT, at[5]), p.get(JAVA_INT, at[6]), p.get(JAVA_INT, at[7]),
                p.get(JAVA_INT, at[8]), p.get(JAVA_INT, at[9]), p.get(JAVA_LONG, at[10]), p.get(JAVA_INT, at[1]) != 0);
    }

    static GpuInstance gpuInstance(MemorySegment i) {
        return new GpuInstance(i.get(JAVA_INT, GI_ID), i.get(JAVA_INT, GI_PROFILE), i.get(JAVA_INT, GI_START),
                i.get(JAVA_INT, GI_SIZE));
    }

    static ComputeInstance computeInstance(MemorySegment i) {
        return new ComputeInstance(i.get(JAVA_INT, CI_ID), i.get(JAVA_INT, CI_PROFILE), i.get(JAVA_INT, CI_START),
                i.get(JAVA_INT, CI_SIZE));
    }

    static MigAttributes migAttributes(MemorySegment a) {
        return new MigAttributes(a.get(JAVA_INT, ATTR[0]), a.get(JAVA_INT, ATTR[1]), a.get(JAVA_INT, ATTR[2]),
                a.get(JAVA_INT, ATTR[3]), a.get(JAVA_INT, ATTR[4]), a.get(JAVA_INT, ATTR[5]), a.get(JAVA_INT, ATTR[6]),
                a.get(JAVA_INT, ATTR[7]), a.get(JAVA_LONG, ATTR[8]));
    }

    static boolean gpmSupported(MemorySegment support) {
        return support.get(JAVA_INT, GPM_SUPPORTED) != 0;
    }

    /** An {@code nvmlGpmMetricsGet_t} asking for {@code metricIds} between two samples. */
    static void gpmRequest(MemorySegment get, MemorySegment sample1, MemorySegment sample2, int[] metricIds) {
        long stride = Layouts.GPM_METRIC.byteSize();
        versioned(get, Layouts.GPM_VERSION).set(JAVA_INT, GPM_NUM_METRICS, metricIds.length);
        get.set(ADDRESS, GPM_SAMPLE1, sample1);
        get.set(ADDRESS, GPM_SAMPLE2, sample2);
        for (int i = 0; i < metricIds.length; i++) {
            get.set(JAVA_INT, GPM_METRICS + i * stride + GPM_METRIC_ID, metricIds[i]);
        }
    }

    static List<GpmMetricValue> gpmMetrics(MemorySegment get, int n) {
        long stride = Layouts.GPM_METRIC.byteSize();
        List<GpmMetricValue> values = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            long at = GPM_METRICS + i * stride;
            values.add(new GpmMetricValue(get.get(JAVA_INT, at + GPM_METRIC_ID),
                    get.get(JAVA_INT, at + GPM_METRIC_RETURN), get.get(JAVA_DOUBLE, at + GPM_METRIC_VALUE)));
        }
        return List.copyOf(values);
    }
}
