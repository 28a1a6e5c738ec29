package io.gpuagent.nvml.ffm;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.gpuagent.nvml.Bar1Memory;
import io.gpuagent.nvml.ClockType;
import io.gpuagent.nvml.ComputeInstance;
import io.gpuagent.nvml.EccCounterType;
import io.gpuagent.nvml.EccMode;
import io.gpuagent.nvml.EngineUtilization;
import io.gpuagent.nvml.FieldIds;
import io.gpuagent.nvml.FieldRequest;
import io.gpuagent.nvml.FieldValue;
import io.gpuagent.nvml.GpmMetricValue;
import io.gpuagent.nvml.GpmSample;
import io.gpuagent.nvml.GpuDevice;
import io.gpuagent.nvml.GpuInstance;
import io.gpuagent.nvml.GpuInstanceProfile;
import io.gpuagent.nvml.MemoryErrorType;
import io.gpuagent.nvml.MemoryInfo;
import io.gpuagent.nvml.MigDevice;
import io.gpuagent.nvml.NvLinkErrorCounter;
import io.gpuagent.nvml.NvmlException;
import io.gpuagent.nvml.PcieCounter;
import io.gpuagent.nvml.PowerConstraints;
import io.gpuagent.nvml.ProcessInfo;
import io.gpuagent.nvml.RecoveryAction;
import io.gpuagent.nvml.RemappedRows;
import io.gpuagent.nvml.RetirementCause;
import io.gpuagent.nvml.TemperatureThreshold;
import io.gpuagent.nvml.Utilization;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.Arrays;
import java.util.List;

/**
 * {@link GpuDevice} over one {@code nvmlDevice_t}: the readings the sampler polls and the controls recovery
 * uses. What the GPU is and how it is wired is in {@link FfmDeviceIdentity}; the call shapes in
 * {@link DeviceCalls}, the struct codecs in {@link Structs}. Stateless apart from the handle: safe from any thread.
 */
final class FfmGpuDevice extends FfmDeviceIdentity {

    private static final int TEMPERATURE_GPU = 0;
    private static final byte POWER_SCOPE_GPU = 0;

    private final FfmGpm gpm;
    private final FfmMig mig;

    FfmGpuDevice(FfmNvml nvml, int index, MemorySegment handle) {
        super(nvml, index, handle);
        this.gpm = new FfmGpm(this, calls);
        this.mig = new FfmMig(this, calls);
    }

    /** A reset the driver may not export (older drivers lack the locked-clock calls). */
    private void reset(String function, MethodHandle h) {
        if (h == null) {
            throw new NvmlException(Native.FUNCTION_NOT_FOUND, function, "not exported by this driver");
        }
        calls.command(function, () -> (int) h.invokeExact(handle));
    }

    // ---- memory and utilization ----------------------------------------------------------------------

    @Override
    public MemoryInfo memoryInfo() {
        return memoryInfo(calls, fn, handle);
    }

    /** v2 with the v1 fallback, for a GPU or a MIG device handle. */
    static MemoryInfo memoryInfo(DeviceCalls calls, Functions fn, MemorySegment handle) {
        MethodHandle v2 = fn.memory.nvmlDeviceGetMemoryInfo_v2;
        return calls.newer("nvmlDeviceGetMemoryInfo_v2", v2, fn.memory.nvmlDeviceGetMemoryInfo != null, Layouts.MEMORY_V2,
                        m -> (int) v2.invokeExact(handle, Structs.versioned(m, Layouts.MEMORY_V2_VERSION)), Structs::memoryV2)
                .orElseGet(() -> calls.struct("nvmlDeviceGetMemoryInfo", Layouts.MEMORY,
                        out -> (int) fn.memory.nvmlDeviceGetMemoryInfo.invokeExact(handle, out), Structs::memory));
    }

    @Override
    public Bar1Memory bar1MemoryInfo() {
        return calls.struct("nvmlDeviceGetBAR1MemoryInfo", Layouts.BAR1_MEMORY,
                out -> (int) fn.memory.nvmlDeviceGetBAR1MemoryInfo.invokeExact(handle, out), Structs::bar1);
    }

    @Override
    public Utilization utilizationRates() {
        return calls.struct("nvmlDeviceGetUtilizationRates", Layouts.UTILIZATION,
                out -> (int) fn.memory.nvmlDeviceGetUtilizationRates.invokeExact(handle, out), Structs::utilization);
    }

    @Override
    public EngineUtilization encoderUtilization() {
        int[] v = calls.ints("nvmlDeviceGetEncoderUtilization", 2,
                out -> (int) fn.memory.nvmlDeviceGetEncoderUtilization.invokeExact(handle, out, out.asSlice(4)));
        return new EngineUtilization(v[0], v[1]);
    }

    @Override
    public EngineUtilization decoderUtilization() {
        int[] v = calls.ints("nvmlDeviceGetDecoderUtilization", 2,
                out -> (int) fn.memory.nvmlDeviceGetDecoderUtilization.invokeExact(handle, out, out.asSlice(4)));
        return new EngineUtilization(v[0], v[1]);
    }

    // ---- temperature and fans ----------------------------------------------------------------------

    @Override
    public int temperature() {
        MethodHandle v = fn.thermal.nvmlDeviceGetTemperatureV;
        return calls.newer("nvmlDeviceGetTemperatureV", v, fn.thermal.nvmlDeviceGetTemperature != null,
                        Layouts.TEMPERATURE_V1,
                        t -> (int) v.invokeExact(handle, Structs.temperatureRequest(t, TEMPERATURE_GPU)), Structs::temperature)
                .orElseGet(() -> calls.uint("nvmlDeviceGetTemperature",
                        out -> (int) fn.thermal.nvmlDeviceGetTemperature.invokeExact(handle, TEMPERATURE_GPU, out)));
    }

    @Override
    public int temperatureThreshold(TemperatureThreshold threshold) {
        int type = threshold.code();
        return calls.uint("nvmlDeviceGetTemperatureThreshold",
                out -> (int) fn.thermal.nvmlDeviceGetTemperatureThreshold.invokeExact(handle, type, out));
    }

    @Override
    public int fanCount() {
        return calls.uint("nvmlDeviceGetNumFans", out -> (int) fn.thermal.nvmlDeviceGetNumFans.invokeExact(handle, out));
    }

    @Override
    public int fanSpeedPercent(int fan) {
        return calls.uint("nvmlDeviceGetFanSpeed_v2", out -> (int) fn.thermal.nvmlDeviceGetFanSpeed_v2.invokeExact(handle, fan, out));
    }

    // ---- power -------------------------------------------------------------------------------------

    @Override
    public long powerUsageMw() {
        return Integer.toUnsignedLong(calls.uint("nvmlDeviceGetPowerUsage",
                out -> (int) fn.power.nvmlDeviceGetPowerUsage.invokeExact(handle, out)));
    }

    @Override
    public long powerLimitMw() {
        return Integer.toUnsignedLong(calls.uint("nvmlDeviceGetPowerManagementLimit",
                out -> (int) fn.power.nvmlDeviceGetPowerManagementLimit.invokeExact(handle, out)));
    }

    @Override
    public long powerDefaultLimitMw() {
        return Integer.toUnsignedLong(calls.uint("nvmlDeviceGetPowerManagementDefaultLimit",
                out -> (int) fn.power.nvmlDeviceGetPowerManagementDefaultLimit.invokeExact(handle, out)));
    }

    @Override
    public long enforcedPowerLimitMw() {
        return Integer.toUnsignedLong(calls.uint("nvmlDeviceGetEnforcedPowerLimit",
                out -> (int) fn.power.nvmlDeviceGetEnforcedPowerLimit.invokeExact(handle, out)));
    }

    @Override
    public PowerConstraints powerLimitConstraints() {
        int[] v = calls.ints("nvmlDeviceGetPowerManagementLimitConstraints", 2,
                out -> (int) fn.power.nvmlDeviceGetPowerManagementLimitConstraints.invokeExact(handle, out, out.asSlice(4)));
        return new PowerConstraints(v[0], v[1]);
    }

    @Override
    public long totalEnergyMj() {
        return calls.ulonglong("nvmlDeviceGetTotalEnergyConsumption",
                out -> (int) fn.power.nvmlDeviceGetTotalEnergyConsumption.invokeExact(handle, out));
    }

    // ---- clocks ------------------------------------------------------------------------------------

    @Override
    public int clockMhz(ClockType type) {
        int t = type.code();
        return calls.uint("nvmlDeviceGetClockInfo", out -> (int) fn.clocks.nvmlDeviceGetClockInfo.invokeExact(handle, t, out));
    }

    @Override
    public int maxClockMhz(ClockType type) {
        int t = type.code();
        return calls.uint("nvmlDeviceGetMaxClockInfo", out -> (int) fn.clocks.nvmlDeviceGetMaxClockInfo.invokeExact(handle, t, out));
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
        return calls.ulonglong(newer != null ? newerName : olderName, out -> (int) h.invokeExact(handle, out));
    }

    @Override
    public int performanceState() {
        return calls.uint("nvmlDeviceGetPerformanceState", out -> (int) fn.clocks.nvmlDeviceGetPerformanceState.invokeExact(handle, out));
    }

    // ---- PCIe counters ---------------------------------------------------------------------------

    @Override
    public long pcieThroughputKBps(PcieCounter counter) {
        int c = counter.code();
        return Integer.toUnsignedLong(calls.uint("nvmlDeviceGetPcieThroughput",
                out -> (int) fn.pcie.nvmlDeviceGetPcieThroughput.invokeExact(handle, c, out)));
    }

    @Override
    public long pcieReplayCounter() {
        return Integer.toUnsignedLong(calls.uint("nvmlDeviceGetPcieReplayCounter",
                out -> (int) fn.pcie.nvmlDeviceGetPcieReplayCounter.invokeExact(handle, out)));
    }

    // ---- ECC and memory health -----------------------------------------------------------------------

    @Override
    public EccMode eccMode() {
        int[] v = calls.ints("nvmlDeviceGetEccMode", 2, out -> (int) fn.ecc.nvmlDeviceGetEccMode.invokeExact(handle, out, out.asSlice(4)));
        return new EccMode(v[0] != 0, v[1] != 0);
    }

    @Override
    public long eccErrors(MemoryErrorType type, EccCounterType counter) {
        int t = type.code();
        int c = counter.code();
        return calls.ulonglong("nvmlDeviceGetTotalEccErrors", out -> (int) fn.ecc.nvmlDeviceGetTotalEccErrors.invokeExact(handle, t, c, out));
    }

    @Override
    public List<Long> retiredPages(RetirementCause cause) {
        int c = cause.code();
        return calls.list("nvmlDeviceGetRetiredPages", (arena, capacity) -> arena.allocate(JAVA_LONG, capacity),
                (count, addresses) -> (int) fn.ecc.nvmlDeviceGetRetiredPages.invokeExact(handle, c, count, addresses),
                (addresses, n) -> Arrays.stream(addresses.asSlice(0, n * JAVA_LONG.byteSize()).toArray(JAVA_LONG))
                        .boxed().toList());
    }

    @Override
    public boolean retiredPagesPending() {
        return calls.uint("nvmlDeviceGetRetiredPagesPendingStatus",
                out -> (int) fn.ecc.nvmlDeviceGetRetiredPagesPendingStatus.invokeExact(handle, out)) != 0;
    }

    @Override
    public RemappedRows remappedRows() {
        int[] v = calls.ints("nvmlDeviceGetRemappedRows", 4, out -> (int) fn.ecc.nvmlDeviceGetRemappedRows.invokeExact(handle,
                out, out.asSlice(4), out.asSlice(8), out.asSlice(12)));
        return new RemappedRows(v[0], v[1], v[2] != 0, v[3] != 0);
    }

    // ---- NVLink errors

    @Override
    public long nvLinkErrorCounter(int link, NvLinkErrorCounter counter) {
        int c = counter.code();
        return calls.ulonglong("nvmlDeviceGetNvLinkErrorCounter",
                out -> (int) fn.nvlink.nvmlDeviceGetNvLinkErrorCounter.invokeExact(handle, link, c, out));
    }

    // ---- processes ---------------------------------------------------------------------------------

    @Override
    public List<ProcessInfo> computeProcesses() {
        return ProcessList.read(calls, "nvmlDeviceGetComputeRunningProcesses_v3",
                fn.processes.nvmlDeviceGetComputeRunningProcesses_v3, handle);
    }

    @Override
    public List<ProcessInfo> graphicsProcesses() {
        return ProcessList.read(calls, "nvmlDeviceGetGraphicsRunningProcesses_v3",
                fn.processes.nvmlDeviceGetGraphicsRunningProcesses_v3, handle);
    }

    // ---- field values ------------------------------------------------------------------------------

    @Override
    public List<FieldValue> fieldValues(List<FieldRequest> fields) {
        int n = fields.size();
        if (n == 0) {
            return List.of();
        }
        // zeroed by the arena, as NVML asks
        return calls.struct("nvmlDeviceGetFieldValues", MemoryLayout.sequenceLayout(n, Layouts.FIELD_VALUE), values -> {
            Structs.fieldRequests(values, fields);
            return (int) fn.fields.nvmlDeviceGetFieldValues.invokeExact(handle, n, values);
        }, values -> Structs.fieldValues(values, n));
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

    // ---- MIG ---------------------------------------------------------------------------------------

    @Override
    public boolean isMigDeviceHandle() {
        return mig.isMigDeviceHandle();
    }

    @Override
    public int maxMigDeviceCount() {
        return mig.maxMigDeviceCount();
    }

    @Override
    public List<MigDevice> migDevices() {
        return mig.migDevices();
    }

    @Override
    public GpuInstanceProfile gpuInstanceProfile(int profile) {
        return mig.gpuInstanceProfile(profile);
    }

    @Override
    public List<GpuInstanceProfile> gpuInstanceProfiles() {
        return mig.gpuInstanceProfiles();
    }

    @Override
    public List<GpuInstance> gpuInstances(int profileId) {
        return mig.gpuInstances(profileId);
    }

    @Override
    public List<GpuInstance> gpuInstances() {
        return mig.gpuInstances();
    }

    @Override
    public List<ComputeInstance> computeInstances(int gpuInstanceId) {
        return mig.computeInstances(gpuInstanceId);
    }

    // ---- GPM -------------------------------------------------------------------------------

    /** False when the driver has no GPM or the GPU is older than Hopper; a capability, never an error. */
    @Override
    public boolean gpmSupported() {
        return gpm.supported();
    }

    @Override
    public GpmSample gpmSample() {
        return gpm.sample();
    }

    @Override
    public List<GpmMetricValue> gpmMetrics(GpmSample first, GpmSample second, int... metricIds) {
        return gpm.metrics(first, second, metricIds);
    }

    @Override
    public GpmSample gpmMigSample(int gpuInstanceId) {
        return gpm.migSample(gpuInstanceId);
    }

    // ---- events ------------------------------------------------------------------------------------

    @Override
    public long supportedEventTypes() {
        return calls.ulonglong("nvmlDeviceGetSupportedEventTypes",
                out -> (int) fn.events.nvmlDeviceGetSupportedEventTypes.invokeExact(handle, out));
    }

    // ---- control -----------------------------------------------------------------------------------

    @Override
    public boolean persistenceMode() {
        return calls.uint("nvmlDeviceGetPersistenceMode", out -> (int) fn.control.nvmlDeviceGetPersistenceMode.invokeExact(handle, out)) != 0;
    }

    @Override
    public void setPersistenceMode(boolean enabled) {
        calls.command("nvmlDeviceSetPersistenceMode",
                () -> (int) fn.control.nvmlDeviceSetPersistenceMode.invokeExact(handle, enabled ? 1 : 0));
    }

    @Override
    public void setPowerLimitMw(long milliwatts) {
        if (milliwatts < 0 || milliwatts > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("power limit out of range: " + milliwatts + " mW");
        }
        int mw = (int) milliwatts;
        MethodHandle v2 = fn.control.nvmlDeviceSetPowerManagementLimit_v2;
        MethodHandle v1 = fn.control.nvmlDeviceSetPowerManagementLimit;
        boolean done = calls.newer("nvmlDeviceSetPowerManagementLimit_v2", v2, v1 != null, Layouts.POWER_VALUE_V2,
                value -> (int) v2.invokeExact(handle, Structs.powerValue(value, POWER_SCOPE_GPU, mw)), value -> true)
                .isPresent();
        if (!done) {
            calls.command("nvmlDeviceSetPowerManagementLimit", () -> (int) v1.invokeExact(handle, mw));
        }
    }

    @Override
    public void resetApplicationsClocks() {
        reset("nvmlDeviceResetApplicationsClocks", fn.control.nvmlDeviceResetApplicationsClocks);
    }

    @Override
    public void resetGpuLockedClocks() {
        reset("nvmlDeviceResetGpuLockedClocks", fn.control.nvmlDeviceResetGpuLockedClocks);
    }

    @Override
    public void resetMemoryLockedClocks() {
        reset("nvmlDeviceResetMemoryLockedClocks", fn.control.nvmlDeviceResetMemoryLockedClocks);
    }

    @Override
    public void clearEccErrorCounts(EccCounterType counter) {
        calls.command("nvmlDeviceClearEccErrorCounts",
                () -> (int) fn.ecc.nvmlDeviceClearEccErrorCounts.invokeExact(handle, counter.code()));
    }

    @Override
    public String toString() {
        return "GPU " + index;
    }
}
