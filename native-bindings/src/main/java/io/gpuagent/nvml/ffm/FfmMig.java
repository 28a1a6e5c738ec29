package io.gpuagent.nvml.ffm;

import static io.gpuagent.nvml.ffm.Native.check;
import static io.gpuagent.nvml.ffm.Native.rethrow;
import static java.lang.foreign.ValueLayout.ADDRESS;

import io.gpuagent.nvml.ComputeInstance;
import io.gpuagent.nvml.GpuInstance;
import io.gpuagent.nvml.GpuInstanceProfile;
import io.gpuagent.nvml.GpuInstanceProfiles;
import io.gpuagent.nvml.MigDevice;
import io.gpuagent.nvml.NvmlException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * The MIG calls of one GPU (docs/nvml.md#mig): its MIG devices, GPU instance profiles, GPU and compute instances.
 * GPU and compute instance handles never leave this class: each is used at once and dropped, since it dies with
 * its instance.
 */
final class FfmMig {

    /** More MIG device slots than a GPU has (7): a driver answering more is not believed past this. */
    private static final int MAX_SLOTS = 64;
    /** {@code NVML_COMPUTE_INSTANCE_PROFILE_COUNT} of the NVML 13 header. */
    private static final int COMPUTE_INSTANCE_PROFILES = 9;
    /** The same count in the 11.8 header: drivers that old answer INVALID_ARGUMENT from here on. */
    private static final int COMPUTE_INSTANCE_PROFILES_11_8 = 7;

    private final FfmGpuDevice gpu;
    private final DeviceCalls calls;
    private final MigFunctions fn;

    FfmMig(FfmGpuDevice gpu, DeviceCalls calls) {
        this.gpu = gpu;
        this.calls = calls;
        this.fn = gpu.nvml().fn.mig;
    }

    /** NOT_SUPPORTED (a GPU without MIG) is a GPU handle too. */
    boolean isMigDeviceHandle() {
        try {
            return calls.uint("nvmlDeviceIsMigDeviceHandle",
                    out -> (int) fn.nvmlDeviceIsMigDeviceHandle.invokeExact(gpu.handle(), out)) != 0;
        } catch (NvmlException e) {
            if (e.code() == Native.NOT_SUPPORTED) {
                return false;
            }
            throw e;
        }
    }

    int maxMigDeviceCount() {
        return calls.uint("nvmlDeviceGetMaxMigDeviceCount",
                out -> (int) fn.nvmlDeviceGetMaxMigDeviceCount.invokeExact(gpu.handle(), out));
    }

    List<MigDevice> migDevices() {
        int slots = Math.min(maxMigDeviceCount(), MAX_SLOTS);
        List<MigDevice> devices = new ArrayList<>(slots);
        for (int slot = 0; slot < slots; slot++) {
            int at = slot;
            migHandle(slot).ifPresent(handle -> devices.add(FfmMigDevice.read(gpu, at, handle)));
        }
        return List.copyOf(devices);
    }

    /** The MIG device handle in {@code slot}; empty for an empty slot (NOT_FOUND, or INVALID_ARGUMENT past the last). */
    private Optional<MemorySegment> migHandle(int slot) {
        String function = "nvmlDeviceGetMigDeviceHandleByIndex";
        try (var held = gpu.nvml().hold(function); Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            int rc = (int) fn.nvmlDeviceGetMigDeviceHandleByIndex.invokeExact(gpu.handle(), slot, out);
            if (rc == Native.NOT_FOUND || rc == Native.INVALID_ARGUMENT) {
                return Optional.empty();
            }
            check(rc, function);
            return Optional.of(out.get(ADDRESS, 0));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** V with the v2 struct; the unversioned call only when V is missing or refuses the struct's version. */
    GpuInstanceProfile gpuInstanceProfile(int profile) {
        MethodHandle v = fn.nvmlDeviceGetGpuInstanceProfileInfoV;
        MethodHandle v1 = fn.nvmlDeviceGetGpuInstanceProfileInfo;
        return calls.newer("nvmlDeviceGetGpuInstanceProfileInfoV", v, v1 != null,
                        rc -> rc == Native.ARGUMENT_VERSION_MISMATCH || rc == Native.FUNCTION_NOT_FOUND,
                        Layouts.GPU_INSTANCE_PROFILE_INFO_V2,
                        info -> (int) v.invokeExact(gpu.handle(), profile,
                                Structs.versioned(info, Layouts.GPU_INSTANCE_PROFILE_INFO_V2_VERSION)),
                        info -> Structs.gpuInstanceProfile(info, true))
                .orElseGet(() -> calls.struct("nvmlDeviceGetGpuInstanceProfileInfo", Layouts.GPU_INSTANCE_PROFILE_INFO,
                        info -> (int) v1.invokeExact(gpu.handle(), profile, info),
                        info -> Structs.gpuInstanceProfile(info, false)));
    }

    /** NOT_SUPPORTED: the GPU lacks the profile (or MIG mode); INVALID_ARGUMENT: an index newer than the driver. */
    List<GpuInstanceProfile> gpuInstanceProfiles() {
        List<GpuInstanceProfile> profiles = new ArrayList<>();
        for (int profile = 0; profile < GpuInstanceProfiles.COUNT; profile++) {
            try {
                profiles.add(gpuInstanceProfile(profile));
            } catch (NvmlException e) {
                if (e.code() != Native.NOT_SUPPORTED && e.code() != Native.INVALID_ARGUMENT) {
                    throw e;
                }
            }
        }
        return List.copyOf(profiles);
    }

    List<GpuInstance> gpuInstances(int profileId) {
        List<MemorySegment> handles = calls.list("nvmlDeviceGetGpuInstances", (arena, capacity) -> arena.allocate(ADDRESS, capacity),
                (count, instances) -> (int) fn.nvmlDeviceGetGpuInstances.invokeExact(gpu.handle(), profileId, instances, count),
                FfmMig::addresses);
        List<GpuInstance> instances = new ArrayList<>(handles.size());
        for (MemorySegment instance : handles) {
            instances.add(calls.struct("nvmlGpuInstanceGetInfo", Layouts.GPU_INSTANCE_INFO,
                    info -> (int) fn.nvmlGpuInstanceGetInfo.invokeExact(instance, info), Structs::gpuInstance));
        }
        instances.sort(Comparator.comparingInt(GpuInstance::id));
        return List.copyOf(instances);
    }

    List<GpuInstance> gpuInstances() {
        List<GpuInstance> instances = new ArrayList<>();
        for (GpuInstanceProfile profile : gpuInstanceProfiles()) {
            instances.addAll(gpuInstances(profile.id()));
        }
        instances.sort(Comparator.comparingInt(GpuInstance::id));
        return List.copyOf(instances);
    }

    List<ComputeInstance> computeInstances(int gpuInstanceId) {
        MemorySegment instance = calls.struct("nvmlDeviceGetGpuInstanceById", ADDRESS,
                out -> (int) fn.nvmlDeviceGetGpuInstanceById.invokeExact(gpu.handle(), gpuInstanceId, out),
                out -> out.get(ADDRESS, 0));
        List<ComputeInstance> computes = new ArrayList<>();
        for (int profile = 0; profile < COMPUTE_INSTANCE_PROFILES; profile++) {
            int p = profile;
            List<MemorySegment> handles;
            try {
                handles = calls.list("nvmlGpuInstanceGetComputeInstances", (arena, capacity) -> arena.allocate(ADDRESS, capacity),
                        (count, cis) -> (int) fn.nvmlGpuInstanceGetComputeInstances.invokeExact(instance, p, cis, count),
                        FfmMig::addresses);
            } catch (NvmlException e) {
                // NOT_SUPPORTED: a profile this GPU instance cannot hold; INVALID_ARGUMENT: one newer than the driver.
                if (e.code() == Native.NOT_SUPPORTED
                        || (e.code() == Native.INVALID_ARGUMENT && profile >= COMPUTE_INSTANCE_PROFILES_11_8)) {
                    continue;
                }
                throw e;
            }
            for (MemorySegment compute : handles) {
                computes.add(calls.struct("nvmlComputeInstanceGetInfo_v2", Layouts.COMPUTE_INSTANCE_INFO,
                        info -> (int) fn.nvmlComputeInstanceGetInfo_v2.invokeExact(compute, info), Structs::computeInstance));
            }
        }
        computes.sort(Comparator.comparingInt(ComputeInstance::id));
        return List.copyOf(computes);
    }

    /** The first {@code n} handles of an array the driver filled (addresses only: they are never dereferenced here). */
    private static List<MemorySegment> addresses(MemorySegment array, int n) {
        List<MemorySegment> handles = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            handles.add(array.getAtIndex(ADDRESS, i));
        }
        return handles;
    }
}
