package io.gpuagent.nvml.ffm;

import static io.gpuagent.nvml.ffm.Layouts.offset;
import static io.gpuagent.nvml.ffm.Native.check;
import static io.gpuagent.nvml.ffm.Native.rethrow;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.gpuagent.nvml.Bar1Memory;
import io.gpuagent.nvml.ClockType;
import io.gpuagent.nvml.ComputeCapability;
import io.gpuagent.nvml.EccCounterType;
import io.gpuagent.nvml.EccMode;
import io.gpuagent.nvml.EngineUtilization;
import io.gpuagent.nvml.FieldIds;
import io.gpuagent.nvml.FieldRequest;
import io.gpuagent.nvml.FieldValue;
import io.gpuagent.nvml.GpmMetricValue;
import io.gpuagent.nvml.GpmSample;
import io.gpuagent.nvml.GpuDevice;
import io.gpuagent.nvml.MemoryErrorType;
import io.gpuagent.nvml.MemoryInfo;
import io.gpuagent.nvml.MigMode;
import io.gpuagent.nvml.NvLinkErrorCounter;
import io.gpuagent.nvml.NvmlException;
import io.gpuagent.nvml.P2pCapability;
import io.gpuagent.nvml.P2pStatus;
import io.gpuagent.nvml.PciInfo;
import io.gpuagent.nvml.PcieCounter;
import io.gpuagent.nvml.PcieLink;
import io.gpuagent.nvml.PowerConstraints;
import io.gpuagent.nvml.ProcessInfo;
import io.gpuagent.nvml.RecoveryAction;
import io.gpuagent.nvml.RemappedRows;
import io.gpuagent.nvml.RetirementCause;
import io.gpuagent.nvml.TemperatureThreshold;
import io.gpuagent.nvml.Utilization;
import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;

/** {@link GpuDevice} over one {@code nvmlDevice_t}. Stateless apart from the handle: safe from any thread. */
final class FfmGpuDevice implements GpuDevice {

    /** The driver rewrites a list between our calls; give up after this many INSUFFICIENT_SIZE answers. */
    private static final int MAX_LIST_ATTEMPTS = 8;
    private static final int INITIAL_LIST_CAPACITY = 16;
    /** {@code NVML_NVLINK_MAX_LINKS} of the newest header. */
    private static final int MAX_NVLINKS = 36;
    /** Fill byte for the process-stride probe (docs/nvml.md#process-lists): entries the driver writes never end in it. */
    private static final byte SENTINEL = (byte) 0xAA;
    private static final int[] PROCESS_STRIDES = {16, 24, 32};
    private static final int MAX_PROCESS_STRIDE = 32;
    private static final int TEMPERATURE_GPU = 0;
    private static final byte POWER_SCOPE_GPU = 0;

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

    /** One downcall writing into {@code out}; returns the {@code nvmlReturn_t}. */
    @FunctionalInterface
    private interface Call {
        int invoke(MemorySegment out) throws Throwable;
    }

    private final FfmNvml nvml;
    private final Functions fn;
    private final int index;
    private final MemorySegment handle;

    FfmGpuDevice(FfmNvml nvml, int index, MemorySegment handle) {
        this.nvml = nvml;
        this.fn = nvml.fn;
        this.index = index;
        this.handle = handle;
    }

    MemorySegment handle() {
        return handle;
    }

    FfmNvml nvml() {
        return nvml;
    }

    static int indexOf(FfmNvml nvml, MemorySegment handle) {
        try (var held = nvml.hold("nvmlDeviceGetIndex"); Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            check((int) nvml.fn.identity.nvmlDeviceGetIndex.invokeExact(handle, out), "nvmlDeviceGetIndex");
            return out.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ---- call shapes -------------------------------------------------------------------------------

    /** {@code count} 32-bit outputs side by side in {@code out} (slice i at offset 4i). */
    private int[] ints(String function, int count, Call call) {
        try (var held = nvml.hold(function); Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT, count);
            check(call.invoke(out), function);
            return out.toArray(JAVA_INT);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private int uint(String function, Call call) {
        return ints(function, 1, call)[0];
    }

    private long ulonglong(String function, Call call) {
        try (var held = nvml.hold(function); Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_LONG);
            check(call.invoke(out), function);
            return out.get(JAVA_LONG, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private String string(String function, int size, MethodHandle h) {
        try (var held = nvml.hold(function); Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(size);
            check((int) h.invokeExact(handle, buffer, size), function);
            return Native.string(buffer);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** A struct the driver fills; {@code read} copies it out before the arena closes. */
    private <T> T struct(String function, MemoryLayout layout, Call call, Function<MemorySegment, T> read) {
        try (var held = nvml.hold(function); Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(layout);
            check(call.invoke(out), function);
            return read.apply(out);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private void action(String function, MethodHandle h) {
        if (h == null) {
            throw new NvmlException(Native.FUNCTION_NOT_FOUND, function, "not exported by this driver");
        }
        try (var held = nvml.hold(function)) {
            check((int) h.invokeExact(handle), function);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ---- identity ----------------------------------------------------------------------------------

    @Override
    public int index() {
        return index;
    }

    @Override
    public String name() {
        return string("nvmlDeviceGetName", Native.NAME_SIZE, fn.identity.nvmlDeviceGetName);
    }

    @Override
    public String uuid() {
        return string("nvmlDeviceGetUUID", Native.UUID_SIZE, fn.identity.nvmlDeviceGetUUID);
    }

    @Override
    public String serial() {
        return string("nvmlDeviceGetSerial", Native.SERIAL_SIZE, fn.identity.nvmlDeviceGetSerial);
    }

    @Override
    public int minorNumber() {
        return uint("nvmlDeviceGetMinorNumber", out -> (int) fn.identity.nvmlDeviceGetMinorNumber.invokeExact(handle, out));
    }

    @Override
    public PciInfo pciInfo() {
        return struct("nvmlDeviceGetPciInfo_v3", Layouts.PCI_INFO,
                out -> (int) fn.identity.nvmlDeviceGetPciInfo_v3.invokeExact(handle, out), FfmGpuDevice::readPciInfo);
    }

    static PciInfo readPciInfo(MemorySegment s) {
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

    @Override
    public int architecture() {
        return uint("nvmlDeviceGetArchitecture", out -> (int) fn.identity.nvmlDeviceGetArchitecture.invokeExact(handle, out));
    }

    @Override
    public ComputeCapability computeCapability() {
        int[] v = ints("nvmlDeviceGetCudaComputeCapability", 2,
                out -> (int) fn.identity.nvmlDeviceGetCudaComputeCapability.invokeExact(handle, out, out.asSlice(4)));
        return new ComputeCapability(v[0], v[1]);
    }

    @Override
    public String vbiosVersion() {
        return string("nvmlDeviceGetVbiosVersion", Native.VBIOS_SIZE, fn.identity.nvmlDeviceGetVbiosVersion);
    }

    @Override
    public int brand() {
        return uint("nvmlDeviceGetBrand", out -> (int) fn.identity.nvmlDeviceGetBrand.invokeExact(handle, out));
    }

    // ---- memory and utilization ----------------------------------------------------------------------

    @Override
    public MemoryInfo memoryInfo() {
        MethodHandle v2 = fn.memory.nvmlDeviceGetMemoryInfo_v2;
        if (v2 != null) {
            try (var held = nvml.hold("nvmlDeviceGetMemoryInfo_v2"); Arena arena = Arena.ofConfined()) {
                MemorySegment m = arena.allocate(Layouts.MEMORY_V2);
                m.set(JAVA_INT, 0, Layouts.MEMORY_V2_VERSION);
                int rc = (int) v2.invokeExact(handle, m);
                if (rc == Native.SUCCESS) {
                    return new MemoryInfo(m.get(JAVA_LONG, MEM2_TOTAL), m.get(JAVA_LONG, MEM2_RESERVED),
                            m.get(JAVA_LONG, MEM2_FREE), m.get(JAVA_LONG, MEM2_USED), true);
                }
                if (!Native.tryOlder(rc) || fn.memory.nvmlDeviceGetMemoryInfo == null) {
                    throw new NvmlException(rc, "nvmlDeviceGetMemoryInfo_v2");
                }
            } catch (Throwable t) {
                throw rethrow(t);
            }
        }
        return struct("nvmlDeviceGetMemoryInfo", Layouts.MEMORY,
                out -> (int) fn.memory.nvmlDeviceGetMemoryInfo.invokeExact(handle, out),
                m -> new MemoryInfo(m.get(JAVA_LONG, MEM_TOTAL), 0, m.get(JAVA_LONG, MEM_FREE), m.get(JAVA_LONG, MEM_USED), false));
    }

    @Override
    public Bar1Memory bar1MemoryInfo() {
        return struct("nvmlDeviceGetBAR1MemoryInfo", Layouts.BAR1_MEMORY,
                out -> (int) fn.memory.nvmlDeviceGetBAR1MemoryInfo.invokeExact(handle, out),
                m -> new Bar1Memory(m.get(JAVA_LONG, BAR1_TOTAL), m.get(JAVA_LONG, BAR1_FREE), m.get(JAVA_LONG, BAR1_USED)));
    }

    @Override
    public Utilization utilizationRates() {
        return struct("nvmlDeviceGetUtilizationRates", Layouts.UTILIZATION,
                out -> (int) fn.memory.nvmlDeviceGetUtilizationRates.invokeExact(handle, out),
                u -> new Utilization(u.get(JAVA_INT, UTIL_GPU), u.get(JAVA_INT, UTIL_MEMORY)));
    }

    @Override
    public EngineUtilization encoderUtilization() {
        int[] v = ints("nvmlDeviceGetEncoderUtilization", 2,
                out -> (int) fn.memory.nvmlDeviceGetEncoderUtilization.invokeExact(handle, out, out.asSlice(4)));
        return new EngineUtilization(v[0], v[1]);
    }

    @Override
    public EngineUtilization decoderUtilization() {
        int[] v = ints("nvmlDeviceGetDecoderUtilization", 2,
                out -> (int) fn.memory.nvmlDeviceGetDecoderUtilization.invokeExact(handle, out, out.asSlice(4)));
        return new EngineUtilization(v[0], v[1]);
    }

    // ---- temperature and fans ----------------------------------------------------------------------

    @Override
    public int temperature() {
        MethodHandle v = fn.thermal.nvmlDeviceGetTemperatureV;
        if (v != null) {
            try (var held = nvml.hold("nvmlDeviceGetTemperatureV"); Arena arena = Arena.ofConfined()) {
                MemorySegment t = arena.allocate(Layouts.TEMPERATURE_V1);
                t.set(JAVA_INT, 0, Layouts.TEMPERATURE_V1_VERSION);
                t.set(JAVA_INT, TEMP_SENSOR, TEMPERATURE_GPU);
                int rc = (int) v.invokeExact(handle, t);
                if (rc == Native.SUCCESS) {
                    return t.get(JAVA_INT, TEMP_VALUE);
                }
                if (!Native.tryOlder(rc) || fn.thermal.nvmlDeviceGetTemperature == null) {
                    throw new NvmlException(rc, "nvmlDeviceGetTemperatureV");
                }
            } catch (Throwable t) {
                throw rethrow(t);
            }
        }
        return uint("nvmlDeviceGetTemperature",
                out -> (int) fn.thermal.nvmlDeviceGetTemperature.invokeExact(handle, TEMPERATURE_GPU, out));
    }

    @Override
    public int temperatureThreshold(TemperatureThreshold threshold) {
        int type = threshold.code();
        return uint("nvmlDeviceGetTemperatureThreshold",
                out -> (int) fn.thermal.nvmlDeviceGetTemperatureThreshold.invokeExact(handle, type, out));
    }

    @Override
    public int fanCount() {
        return uint("nvmlDeviceGetNumFans", out -> (int) fn.thermal.nvmlDeviceGetNumFans.invokeExact(handle, out));
    }

    @Override
    public int fanSpeedPercent(int fan) {
        return uint("nvmlDeviceGetFanSpeed_v2", out -> (int) fn.thermal.nvmlDeviceGetFanSpeed_v2.invokeExact(handle, fan, out));
    }

    // ---- power -------------------------------------------------------------------------------------

    @Override
    public long powerUsageMw() {
        return Integer.toUnsignedLong(uint("nvmlDeviceGetPowerUsage",
                out -> (int) fn.power.nvmlDeviceGetPowerUsage.invokeExact(handle, out)));
    }

    @Override
    public long powerLimitMw() {
        return Integer.toUnsignedLong(uint("nvmlDeviceGetPowerManagementLimit",
                out -> (int) fn.power.nvmlDeviceGetPowerManagementLimit.invokeExact(handle, out)));
    }

    @Override
    public long powerDefaultLimitMw() {
        return Integer.toUnsignedLong(uint("nvmlDeviceGetPowerManagementDefaultLimit",
                out -> (int) fn.power.nvmlDeviceGetPowerManagementDefaultLimit.invokeExact(handle, out)));
    }

    @Override
    public long enforcedPowerLimitMw() {
        return Integer.toUnsignedLong(uint("nvmlDeviceGetEnforcedPowerLimit",
                out -> (int) fn.power.nvmlDeviceGetEnforcedPowerLimit.invokeExact(handle, out)));
    }

    @Override
    public PowerConstraints powerLimitConstraints() {
        int[] v = ints("nvmlDeviceGetPowerManagementLimitConstraints", 2,
                out -> (int) fn.power.nvmlDeviceGetPowerManagementLimitConstraints.invokeExact(handle, out, out.asSlice(4)));
        return new PowerConstraints(v[0], v[1]);
    }

    @Override
    public long totalEnergyMj() {
        return ulonglong("nvmlDeviceGetTotalEnergyConsumption",
                out -> (int) fn.power.nvmlDeviceGetTotalEnergyConsumption.invokeExact(handle, out));
    }

    // ---- clocks ------------------------------------------------------------------------------------

    @Override
    public int clockMhz(ClockType type) {
        int t = type.code();
        return uint("nvmlDeviceGetClockInfo", out -> (int) fn.clocks.nvmlDeviceGetClockInfo.invokeExact(handle, t, out));
    }

    @Override
    public int maxClockMhz(ClockType type) {
        int t = type.code();
        return uint("nvmlDeviceGetMaxClockInfo", out -> (int) fn.clocks.nvmlDeviceGetMaxClockInfo.invokeExact(handle, t, out));
    }

    @Override
    public long clockEventReasons() {
        return reasons(fn.clocks.nvmlDeviceGetCurrentClocksEventReasons, "nvmlDeviceGetCurrentClocksEventReasons",
                fn.clocks.nvmlDeviceGetCurrentClocksThrottleReasons, "nvmlDeviceGetCurrentClocksThrottleReasons");
    }

    @Override
    public long supportedClockEventReasons() {
        return reasons(fn.clocks.nvmlDeviceGetSupportedClocksEventReasons, "nvmlDeviceGetSupportedClocksEventReasons",
                fn.clocks.nvmlDeviceGetSupportedClocksThrottleReasons, "nvmlDeviceGetSupportedClocksThrottleReasons");
    }

    /** The EventReasons and ThrottleReasons calls are one function under two names (same bits). */
    private long reasons(MethodHandle newer, String newerName, MethodHandle older, String olderName) {
        MethodHandle h = newer != null ? newer : older;
        return ulonglong(newer != null ? newerName : olderName, out -> (int) h.invokeExact(handle, out));
    }

    @Override
    public int performanceState() {
        return uint("nvmlDeviceGetPerformanceState", out -> (int) fn.clocks.nvmlDeviceGetPerformanceState.invokeExact(handle, out));
    }

    // ---- PCIe and topology ---------------------------------------------------------------------------

    @Override
    public long pcieThroughputKBps(PcieCounter counter) {
        int c = counter.code();
        return Integer.toUnsignedLong(uint("nvmlDeviceGetPcieThroughput",
                out -> (int) fn.pcie.nvmlDeviceGetPcieThroughput.invokeExact(handle, c, out)));
    }

    @Override
    public long pcieReplayCounter() {
        return Integer.toUnsignedLong(uint("nvmlDeviceGetPcieReplayCounter",
                out -> (int) fn.pcie.nvmlDeviceGetPcieReplayCounter.invokeExact(handle, out)));
    }

    @Override
    public PcieLink pcieLink() {
        return new PcieLink(
                uint("nvmlDeviceGetCurrPcieLinkGeneration", out -> (int) fn.pcie.nvmlDeviceGetCurrPcieLinkGeneration.invokeExact(handle, out)),
                uint("nvmlDeviceGetCurrPcieLinkWidth", out -> (int) fn.pcie.nvmlDeviceGetCurrPcieLinkWidth.invokeExact(handle, out)),
                uint("nvmlDeviceGetMaxPcieLinkGeneration", out -> (int) fn.pcie.nvmlDeviceGetMaxPcieLinkGeneration.invokeExact(handle, out)),
                uint("nvmlDeviceGetMaxPcieLinkWidth", out -> (int) fn.pcie.nvmlDeviceGetMaxPcieLinkWidth.invokeExact(handle, out)));
    }

    @Override
    public int topologyCommonAncestor(GpuDevice other) {
        MemorySegment peer = ((FfmGpuDevice) Objects.requireNonNull(other, "other")).handle;
        return uint("nvmlDeviceGetTopologyCommonAncestor",
                out -> (int) fn.pcie.nvmlDeviceGetTopologyCommonAncestor.invokeExact(handle, peer, out));
    }

    @Override
    public P2pStatus p2pStatus(GpuDevice other, P2pCapability capability) {
        MemorySegment peer = ((FfmGpuDevice) Objects.requireNonNull(other, "other")).handle;
        int cap = capability.code();
        return P2pStatus.of(uint("nvmlDeviceGetP2PStatus",
                out -> (int) fn.pcie.nvmlDeviceGetP2PStatus.invokeExact(handle, peer, cap, out)));
    }

    // ---- ECC and memory health -----------------------------------------------------------------------

    @Override
    public EccMode eccMode() {
        int[] v = ints("nvmlDeviceGetEccMode", 2, out -> (int) fn.ecc.nvmlDeviceGetEccMode.invokeExact(handle, out, out.asSlice(4)));
        return new EccMode(v[0] != 0, v[1] != 0);
    }

    @Override
    public long eccErrors(MemoryErrorType type, EccCounterType counter) {
        int t = type.code();
        int c = counter.code();
        return ulonglong("nvmlDeviceGetTotalEccErrors", out -> (int) fn.ecc.nvmlDeviceGetTotalEccErrors.invokeExact(handle, t, c, out));
    }

    @Override
    public List<Long> retiredPages(RetirementCause cause) {
        String function = "nvmlDeviceGetRetiredPages";
        int c = cause.code();
        int capacity = INITIAL_LIST_CAPACITY;
        for (int attempt = 1; ; attempt++) {
            try (var held = nvml.hold(function); Arena arena = Arena.ofConfined()) {
                MemorySegment count = arena.allocate(JAVA_INT);
                count.set(JAVA_INT, 0, capacity);
                MemorySegment addresses = arena.allocate(JAVA_LONG, capacity);
                int rc = (int) fn.ecc.nvmlDeviceGetRetiredPages.invokeExact(handle, c, count, addresses);
                int n = count.get(JAVA_INT, 0);
                if (rc == Native.INSUFFICIENT_SIZE && attempt < MAX_LIST_ATTEMPTS) {
                    capacity = grow(capacity, n);
                    continue;
                }
                check(rc, function);
                List<Long> pages = new ArrayList<>(n);
                for (int i = 0; i < Math.min(n, capacity); i++) {
                    pages.add(addresses.getAtIndex(JAVA_LONG, i));
                }
                return List.copyOf(pages);
            } catch (Throwable t) {
                throw rethrow(t);
            }
        }
    }

    /** Room for what the driver asked for plus slack, because the list may grow again before the retry. */
    private static int grow(int capacity, int needed) {
        return Math.max(capacity * 2, needed + needed / 2 + 4);
    }

    @Override
    public boolean retiredPagesPending() {
        return uint("nvmlDeviceGetRetiredPagesPendingStatus",
                out -> (int) fn.ecc.nvmlDeviceGetRetiredPagesPendingStatus.invokeExact(handle, out)) != 0;
    }

    @Override
    public RemappedRows remappedRows() {
        int[] v = ints("nvmlDeviceGetRemappedRows", 4, out -> (int) fn.ecc.nvmlDeviceGetRemappedRows.invokeExact(handle,
                out, out.asSlice(4), out.asSlice(8), out.asSlice(12)));
        return new RemappedRows(v[0], v[1], v[2] != 0, v[3] != 0);
    }

    // ---- NVLink ------------------------------------------------------------------------------------

    @Override
    public int nvLinkCount() {
        String function = "nvmlDeviceGetNvLinkState";
        try (var held = nvml.hold(function); Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            for (int link = 0; link < MAX_NVLINKS; link++) {
                int rc = (int) fn.nvlink.nvmlDeviceGetNvLinkState.invokeExact(handle, link, out);
                if (rc == Native.INVALID_ARGUMENT || rc == Native.NOT_SUPPORTED) {
                    return link;
                }
                check(rc, function);
            }
            return MAX_NVLINKS;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    @Override
    public boolean nvLinkActive(int link) {
        return uint("nvmlDeviceGetNvLinkState", out -> (int) fn.nvlink.nvmlDeviceGetNvLinkState.invokeExact(handle, link, out)) != 0;
    }

    @Override
    public PciInfo nvLinkRemotePciInfo(int link) {
        return struct("nvmlDeviceGetNvLinkRemotePciInfo_v2", Layouts.PCI_INFO,
                out -> (int) fn.nvlink.nvmlDeviceGetNvLinkRemotePciInfo_v2.invokeExact(handle, link, out), FfmGpuDevice::readPciInfo);
    }

    @Override
    public long nvLinkErrorCounter(int link, NvLinkErrorCounter counter) {
        int c = counter.code();
        return ulonglong("nvmlDeviceGetNvLinkErrorCounter",
                out -> (int) fn.nvlink.nvmlDeviceGetNvLinkErrorCounter.invokeExact(handle, link, c, out));
    }

    // ---- processes ---------------------------------------------------------------------------------

    @Override
    public List<ProcessInfo> computeProcesses() {
        return processes("nvmlDeviceGetComputeRunningProcesses_v3", fn.processes.nvmlDeviceGetComputeRunningProcesses_v3);
    }

    @Override
    public List<ProcessInfo> graphicsProcesses() {
        return processes("nvmlDeviceGetGraphicsRunningProcesses_v3", fn.processes.nvmlDeviceGetGraphicsRunningProcesses_v3);
    }

    /**
     * The {@code _v3} count protocol with a growth loop, and the stride probe of docs/nvml.md#process-lists: drivers
     * have written 16-, 24- and 32-byte entries from the same symbol. The buffer is sized for the largest
     * stride (so no driver can overrun it) and filled with a sentinel; the end of what the driver wrote,
     * divided by the count, tells the stride.
     */
    private List<ProcessInfo> processes(String function, MethodHandle h) {
        int capacity = INITIAL_LIST_CAPACITY;
        for (int attempt = 1; ; attempt++) {
            try (var held = nvml.hold(function); Arena arena = Arena.ofConfined()) {
                MemorySegment count = arena.allocate(JAVA_INT);
                count.set(JAVA_INT, 0, capacity);
                MemorySegment infos = arena.allocate((long) capacity * MAX_PROCESS_STRIDE, 8);
                infos.fill(SENTINEL);
                int rc = (int) h.invokeExact(handle, count, infos);
                int n = count.get(JAVA_INT, 0);
                if (rc == Native.INSUFFICIENT_SIZE && attempt < MAX_LIST_ATTEMPTS) {
                    capacity = grow(capacity, n);
                    continue;
                }
                check(rc, function);
                return parseProcesses(infos, Math.min(n, capacity));
            } catch (Throwable t) {
                throw rethrow(t);
            }
        }
    }

    static List<ProcessInfo> parseProcesses(MemorySegment infos, int n) {
        if (n <= 0) {
            return List.of();
        }
        int stride = processStride(infos, n);
        boolean instanceIds = stride >= Layouts.PROCESS_INFO.byteSize();
        List<ProcessInfo> list = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            MemorySegment e = infos.asSlice((long) i * stride, stride);
            list.add(new ProcessInfo(e.get(JAVA_INT, PROC_PID), e.get(JAVA_LONG, PROC_MEMORY),
                    instanceIds ? e.get(JAVA_INT, PROC_GI) : -1, instanceIds ? e.get(JAVA_INT, PROC_CI) : -1));
        }
        return List.copyOf(list);
    }

    /**
     * The smallest known stride whose {@code n} entries cover every byte the driver changed. A written
     * byte that happens to equal the sentinel can only shorten the changed span by a few bytes, never by
     * the 8n bytes that separate two candidate strides. A driver that cleared the whole buffer it was
     * given ({@code capacity} entries of its own size) is recognised by that span instead.
     */
    static int processStride(MemorySegment infos, int n) {
        long end = infos.byteSize();
        while (end > 0 && infos.get(JAVA_BYTE, end - 1) == SENTINEL) {
            end--;
        }
        if (end > (long) n * MAX_PROCESS_STRIDE) {
            long capacity = infos.byteSize() / MAX_PROCESS_STRIDE;
            for (int stride : PROCESS_STRIDES) {
                if (end == capacity * stride) {
                    return stride;
                }
            }
            return (int) Layouts.PROCESS_INFO.byteSize();
        }
        for (int stride : PROCESS_STRIDES) {
            if ((long) stride * n >= end) {
                return stride;
            }
        }
        return MAX_PROCESS_STRIDE;
    }

    // ---- field values ------------------------------------------------------------------------------

    @Override
    public List<FieldValue> fieldValues(List<FieldRequest> fields) {
        String function = "nvmlDeviceGetFieldValues";
        int n = fields.size();
        if (n == 0) {
            return List.of();
        }
        long size = Layouts.FIELD_VALUE.byteSize();
        try (var held = nvml.hold(function); Arena arena = Arena.ofConfined()) {
            MemorySegment values = arena.allocate(Layouts.FIELD_VALUE, n);   // zeroed, as NVML asks
            for (int i = 0; i < n; i++) {
                values.set(JAVA_INT, i * size + FV_FIELD_ID, fields.get(i).fieldId());
                values.set(JAVA_INT, i * size + FV_SCOPE_ID, fields.get(i).scopeId());
            }
            check((int) fn.fields.nvmlDeviceGetFieldValues.invokeExact(handle, n, values), function);
            List<FieldValue> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                long at = i * size;
                out.add(new FieldValue(values.get(JAVA_INT, at + FV_FIELD_ID), values.get(JAVA_INT, at + FV_SCOPE_ID),
                        values.get(JAVA_INT, at + FV_RETURN), values.get(JAVA_INT, at + FV_VALUE_TYPE),
                        values.get(JAVA_LONG, at + FV_VALUE), values.get(JAVA_LONG, at + FV_TIMESTAMP)));
            }
            return List.copyOf(out);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    @Override
    public RecoveryAction recoveryAction() {
        FieldValue v = fieldValues(List.of(FieldRequest.of(FieldIds.GET_GPU_RECOVERY_ACTION))).getFirst();
        if (!v.ok()) {
            // INVALID_ARGUMENT in the entry: the driver predates the field (before 565), so it is not supported.
            int rc = v.returnCode() == Native.INVALID_ARGUMENT ? Native.NOT_SUPPORTED : v.returnCode();
            throw new NvmlException(rc, "nvmlDeviceGetFieldValues", "field " + FieldIds.GET_GPU_RECOVERY_ACTION);
        }
        return RecoveryAction.of(v.asLong());
    }

    // ---- MIG and GPM -------------------------------------------------------------------------------

    @Override
    public MigMode migMode() {
        int[] v = ints("nvmlDeviceGetMigMode", 2, out -> (int) fn.identity.nvmlDeviceGetMigMode.invokeExact(handle, out, out.asSlice(4)));
        return new MigMode(v[0] != 0, v[1] != 0);
    }

    /** False when the driver has no GPM or the GPU is older than Hopper; a capability, never an error. */
    @Override
    public boolean gpmSupported() {
        String function = "nvmlGpmQueryDeviceSupport";
        MethodHandle h = fn.gpm.nvmlGpmQueryDeviceSupport;
        if (h == null) {
            return false;
        }
        try (var held = nvml.hold(function); Arena arena = Arena.ofConfined()) {
            MemorySegment support = arena.allocate(Layouts.GPM_SUPPORT);
            support.set(JAVA_INT, 0, Layouts.GPM_VERSION);
            int rc = (int) h.invokeExact(handle, support);
            if (rc == Native.NOT_SUPPORTED) {
                return false;
            }
            check(rc, function);
            return support.get(JAVA_INT, GPM_SUPPORTED) != 0;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    @Override
    public GpmSample gpmSample() {
        MemorySegment sample = gpmAlloc();
        try {
            FfmGpmSample.take(this, sample);
        } catch (RuntimeException | Error e) {
            FfmGpmSample.free(nvml, sample);
            throw e;
        }
        return new FfmGpmSample(this, sample);
    }

    private MemorySegment gpmAlloc() {
        String function = "nvmlGpmSampleAlloc";
        MethodHandle h = gpmHandle(fn.gpm.nvmlGpmSampleAlloc, function);
        try (var held = nvml.hold(function); Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            check((int) h.invokeExact(out), function);
            return out.get(ADDRESS, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static MethodHandle gpmHandle(MethodHandle h, String function) {
        if (h == null) {
            throw new NvmlException(Native.FUNCTION_NOT_FOUND, function, "this driver has no GPM (520+ drivers)");
        }
        return h;
    }

    @Override
    public List<GpmMetricValue> gpmMetrics(GpmSample first, GpmSample second, int... metricIds) {
        int n = metricIds.length;
        if (n <= Layouts.GPM_METRICS_PER_CALL) {
            return gpmMetricsOnce(first, second, metricIds);
        }
        // A driver rejects more than its own NVML_GPM_METRIC_MAX per call (98 up to 12.2): ask in chunks.
        List<GpmMetricValue> values = new ArrayList<>(n);
        for (int from = 0; from < n; from += Layouts.GPM_METRICS_PER_CALL) {
            int[] chunk = Arrays.copyOfRange(metricIds, from, Math.min(n, from + Layouts.GPM_METRICS_PER_CALL));
            values.addAll(gpmMetricsOnce(first, second, chunk));
        }
        return List.copyOf(values);
    }

    private List<GpmMetricValue> gpmMetricsOnce(GpmSample first, GpmSample second, int[] metricIds) {
        String function = "nvmlGpmMetricsGet";
        MethodHandle h = gpmHandle(fn.gpm.nvmlGpmMetricsGet, function);
        int n = metricIds.length;
        if (n == 0) {
            return List.of();
        }
        long stride = Layouts.GPM_METRIC.byteSize();
        try (var held = nvml.hold(function); Arena arena = Arena.ofConfined()) {
            MemorySegment get = arena.allocate(Layouts.GPM_METRICS_GET);
            get.set(JAVA_INT, 0, Layouts.GPM_VERSION);
            get.set(JAVA_INT, GPM_NUM_METRICS, n);
            get.set(ADDRESS, GPM_SAMPLE1, FfmGpmSample.handleOf(first));
            get.set(ADDRESS, GPM_SAMPLE2, FfmGpmSample.handleOf(second));
            for (int i = 0; i < n; i++) {
                get.set(JAVA_INT, GPM_METRICS + i * stride + GPM_METRIC_ID, metricIds[i]);
            }
            check((int) h.invokeExact(get), function);
            List<GpmMetricValue> values = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                long at = GPM_METRICS + i * stride;
                values.add(new GpmMetricValue(get.get(JAVA_INT, at + GPM_METRIC_ID), get.get(JAVA_INT, at + GPM_METRIC_RETURN),
                        get.get(JAVA_DOUBLE, at + GPM_METRIC_VALUE)));
            }
            return List.copyOf(values);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ---- events ------------------------------------------------------------------------------------

    @Override
    public long supportedEventTypes() {
        return ulonglong("nvmlDeviceGetSupportedEventTypes",
                out -> (int) fn.events.nvmlDeviceGetSupportedEventTypes.invokeExact(handle, out));
    }

    // ---- control -----------------------------------------------------------------------------------

    @Override
    public boolean persistenceMode() {
        return uint("nvmlDeviceGetPersistenceMode", out -> (int) fn.control.nvmlDeviceGetPersistenceMode.invokeExact(handle, out)) != 0;
    }

    @Override
    public void setPersistenceMode(boolean enabled) {
        String function = "nvmlDeviceSetPersistenceMode";
        try (var held = nvml.hold(function)) {
            check((int) fn.control.nvmlDeviceSetPersistenceMode.invokeExact(handle, enabled ? 1 : 0), function);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    @Override
    public void setPowerLimitMw(long milliwatts) {
        if (milliwatts < 0 || milliwatts > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("power limit out of range: " + milliwatts + " mW");
        }
        int mw = (int) milliwatts;
        MethodHandle v2 = fn.control.nvmlDeviceSetPowerManagementLimit_v2;
        MethodHandle v1 = fn.control.nvmlDeviceSetPowerManagementLimit;
        if (v2 != null) {
            try (var held = nvml.hold("nvmlDeviceSetPowerManagementLimit_v2"); Arena arena = Arena.ofConfined()) {
                MemorySegment value = arena.allocate(Layouts.POWER_VALUE_V2);
                value.set(JAVA_INT, 0, Layouts.POWER_VALUE_V2_VERSION);
                value.set(JAVA_BYTE, POWER_SCOPE, POWER_SCOPE_GPU);
                value.set(JAVA_INT, POWER_VALUE, mw);
                int rc = (int) v2.invokeExact(handle, value);
                if (rc == Native.SUCCESS) {
                    return;
                }
                if (!Native.tryOlder(rc) || v1 == null) {
                    throw new NvmlException(rc, "nvmlDeviceSetPowerManagementLimit_v2");
                }
            } catch (Throwable t) {
                throw rethrow(t);
            }
        }
        String function = "nvmlDeviceSetPowerManagementLimit";
        try (var held = nvml.hold(function)) {
            check((int) v1.invokeExact(handle, mw), function);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    @Override
    public void resetApplicationsClocks() {
        action("nvmlDeviceResetApplicationsClocks", fn.control.nvmlDeviceResetApplicationsClocks);
    }

    @Override
    public void resetGpuLockedClocks() {
        action("nvmlDeviceResetGpuLockedClocks", fn.control.nvmlDeviceResetGpuLockedClocks);
    }

    @Override
    public void resetMemoryLockedClocks() {
        action("nvmlDeviceResetMemoryLockedClocks", fn.control.nvmlDeviceResetMemoryLockedClocks);
    }

    @Override
    public void clearEccErrorCounts(EccCounterType counter) {
        String function = "nvmlDeviceClearEccErrorCounts";
        try (var held = nvml.hold(function)) {
            check((int) fn.ecc.nvmlDeviceClearEccErrorCounts.invokeExact(handle, counter.code()), function);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    @Override
    public String toString() {
        return "GPU " + index;
    }
}
