package io.gpuagent.nvml;

import java.util.List;

/**
 * One GPU (an {@code nvmlDevice_t}). Every getter is one NVML call (or a documented fallback chain) and
 * throws {@link NvmlException}; use {@link NvmlException#notSupported()} to tell a missing capability
 * from a failure, and {@link NvmlException#gpuLost()} for a GPU that fell off the bus.
 * Unsigned C values that can exceed {@code Integer.MAX_VALUE} are returned as {@code long}.
 */
public interface GpuDevice {

    /** The index this handle was opened with (not stable across reboots: key data by UUID). */
    int index();

    // identity
    String name();

    String uuid();

    String serial();

    int minorNumber();

    PciInfo pciInfo();

    /** {@code nvmlDeviceArchitecture_t}: HOPPER is 9. */
    int architecture();

    ComputeCapability computeCapability();

    String vbiosVersion();

    /** {@code nvmlBrandType_t}. */
    int brand();

    // memory
    /** v2 with fallback to v1 when the symbol is missing or the driver rejects the version. */
    MemoryInfo memoryInfo();

    Bar1Memory bar1MemoryInfo();

    // utilization
    Utilization utilizationRates();

    EngineUtilization encoderUtilization();

    EngineUtilization decoderUtilization();

    // temperature
    /** GPU temperature, Celsius: {@code nvmlDeviceGetTemperatureV} with fallback to {@code nvmlDeviceGetTemperature}. */
    int temperature();

    int temperatureThreshold(TemperatureThreshold threshold);

    // power
    long powerUsageMw();

    long powerLimitMw();

    long powerDefaultLimitMw();

    long enforcedPowerLimitMw();

    PowerConstraints powerLimitConstraints();

    /** Millijoules since the driver loaded. */
    long totalEnergyMj();

    // clocks
    int clockMhz(ClockType type);

    int maxClockMhz(ClockType type);

    /** {@link ClockEventReasons} bits: EventReasons with fallback to ThrottleReasons. */
    long clockEventReasons();

    long supportedClockEventReasons();

    /** 0 (max performance) .. 15, 32 unknown. */
    int performanceState();

    // fans
    int fanCount();

    /** Intended fan speed, percent of max (may exceed 100). */
    int fanSpeedPercent(int fan);

    // PCIe
    /** KB/s over NVML's 20 ms window: a slow call. */
    long pcieThroughputKBps(PcieCounter counter);

    long pcieReplayCounter();

    PcieLink pcieLink();

    // ECC and memory health
    EccMode eccMode();

    long eccErrors(MemoryErrorType type, EccCounterType counter);

    /** Retired page addresses for one cause (count protocol with growth loop). */
    List<Long> retiredPages(RetirementCause cause);

    boolean retiredPagesPending();

    RemappedRows remappedRows();

    // NVLink
    /** Links are probed 0.. until INVALID_ARGUMENT/NOT_SUPPORTED; returns how many answered. */
    int nvLinkCount();

    boolean nvLinkActive(int link);

    PciInfo nvLinkRemotePciInfo(int link);

    long nvLinkErrorCounter(int link, NvLinkErrorCounter counter);

    // topology
    /**
     * {@code nvmlDeviceGetTopologyCommonAncestor}: {@code nvmlGpuTopologyLevel_t} between this GPU and
     * {@code other} (INTERNAL 0, SINGLE 10, MULTIPLE 20, HOSTBRIDGE 30, NODE 40, SYSTEM 50).
     */
    int topologyCommonAncestor(GpuDevice other);

    /**
     * {@code nvmlDeviceGetP2PStatus}: whether {@code capability} works between this GPU and {@code other};
     * {@link P2pCapability#NVLINK} answers OK when the two share an NVLink (direct or through NVSwitches).
     */
    P2pStatus p2pStatus(GpuDevice other, P2pCapability capability);

    /**
     * The GPU's NVLink fabric: {@code nvmlDeviceGetGpuFabricInfoV} ({@code nvmlGpuFabricInfo_v3_t}, 570+), else
     * {@code nvmlDeviceGetGpuFabricInfo} (525+, without the health). NOT_SUPPORTED on GPUs outside an NVSwitch
     * fabric and on drivers with neither call.
     */
    FabricInfo fabricInfo();

    // processes
    /** {@code _v3} with a growth loop on INSUFFICIENT_SIZE and the stride probe of docs/nvml.md#process-lists. */
    List<ProcessInfo> computeProcesses();

    List<ProcessInfo> graphicsProcesses();

    // batched fields
    /** One {@code nvmlDeviceGetFieldValues} call; check each entry's {@link FieldValue#ok()}. */
    List<FieldValue> fieldValues(List<FieldRequest> fields);

    /** The driver's recovery hint (field 230; NOT_SUPPORTED before 565 drivers). */
    RecoveryAction recoveryAction();

    // MIG (docs/nvml.md#mig)
    /** {@code nvmlDeviceGetMigMode}; NOT_SUPPORTED on a GPU without MIG. */
    MigMode migMode();

    /** {@code nvmlDeviceIsMigDeviceHandle}; false also where the device cannot tell (NOT_SUPPORTED: no MIG). */
    boolean isMigDeviceHandle();

    /** {@code nvmlDeviceGetMaxMigDeviceCount}: the MIG device slots (7 on A100/H100/H200 in MIG mode), 0 without MIG. */
    int maxMigDeviceCount();

    /**
     * The MIG devices of this GPU: slots 0..{@link #maxMigDeviceCount()}-1 through
     * {@code nvmlDeviceGetMigDeviceHandleByIndex}, an empty slot (NOT_FOUND, INVALID_ARGUMENT) skipped, any other
     * failure thrown. Fresh objects and handles on every call: MIG handles are never cached (instances come and go).
     * Empty when the GPU is not in MIG mode.
     */
    List<MigDevice> migDevices();

    /**
     * {@code nvmlDeviceGetGpuInstanceProfileInfoV} (v2 struct), falling back to
     * {@code nvmlDeviceGetGpuInstanceProfileInfo} on drivers without it. {@code profile} is an
     * {@code NVML_GPU_INSTANCE_PROFILE_*} index ({@link GpuInstanceProfiles}); NOT_SUPPORTED when the GPU lacks that
     * profile or is not in MIG mode, INVALID_ARGUMENT for an index the driver does not know.
     */
    GpuInstanceProfile gpuInstanceProfile(int profile);

    /** Every profile {@link #gpuInstanceProfile(int)} answers for indices 0..{@link GpuInstanceProfiles#COUNT}-1. */
    List<GpuInstanceProfile> gpuInstanceProfiles();

    /**
     * {@code nvmlDeviceGetGpuInstances} for one {@link GpuInstanceProfile#id() profile id}, each read with
     * {@code nvmlGpuInstanceGetInfo}; ordered by id. NOT_SUPPORTED outside MIG mode.
     */
    List<GpuInstance> gpuInstances(int profileId);

    /** The GPU instances of every profile in {@link #gpuInstanceProfiles()}, ordered by id. */
    List<GpuInstance> gpuInstances();

    /**
     * The compute instances of GPU instance {@code gpuInstanceId} ({@code nvmlDeviceGetGpuInstanceById}, then
     * {@code nvmlGpuInstanceGetComputeInstances} per compute instance profile and
     * {@code nvmlComputeInstanceGetInfo_v2}); ordered by id. NOT_FOUND when the GPU has no such instance.
     */
    List<ComputeInstance> computeInstances(int gpuInstanceId);

    // GPM

    boolean gpmSupported();

    /** Allocates and fills a GPM sample; close it when done. Take two >= 100 ms apart. */
    GpmSample gpmSample();

    List<GpmMetricValue> gpmMetrics(GpmSample first, GpmSample second, int... metricIds);

    /**
     * A GPM sample of GPU instance {@code gpuInstanceId} ({@code nvmlGpmSampleAlloc} + {@code nvmlGpmMigSampleGet});
     * compare two of the same instance with {@link #gpmMetrics}. Close it when done.
     */
    GpmSample gpmMigSample(int gpuInstanceId);

    // events
    long supportedEventTypes();

    // control (root on a real host)
    boolean persistenceMode();

    void setPersistenceMode(boolean enabled);

    /** {@code _v2} with fallback to v1. */
    void setPowerLimitMw(long milliwatts);

    void resetApplicationsClocks();

    void resetGpuLockedClocks();

    void resetMemoryLockedClocks();

    void clearEccErrorCounts(EccCounterType counter);
}
