package io.gpuagent.nvml.ffm;

import static java.lang.foreign.FunctionDescriptor.of;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.invoke.MethodHandle;

/**
 * MIG (docs/nvml.md#mig): MIG device handles, GPU and compute instances, profiles. Every driver since R470 exports
 * them (the 535 list included); a GPU without MIG answers NOT_SUPPORTED or an empty count, not a missing symbol.
 */
final class MigFunctions {
    final MethodHandle nvmlDeviceIsMigDeviceHandle;
    final MethodHandle nvmlDeviceGetMaxMigDeviceCount;
    final MethodHandle nvmlDeviceGetMigDeviceHandleByIndex;
    final MethodHandle nvmlDeviceGetDeviceHandleFromMigDeviceHandle;
    final MethodHandle nvmlDeviceGetGpuInstanceId;
    final MethodHandle nvmlDeviceGetComputeInstanceId;
    final MethodHandle nvmlDeviceGetAttributes_v2;
    /** Optional: null on drivers before the versioned call, which have {@link #nvmlDeviceGetGpuInstanceProfileInfo}. */
    final MethodHandle nvmlDeviceGetGpuInstanceProfileInfoV;
    final MethodHandle nvmlDeviceGetGpuInstanceProfileInfo;  // optional (the fallback)
    final MethodHandle nvmlDeviceGetGpuInstances;
    final MethodHandle nvmlDeviceGetGpuInstanceById;
    final MethodHandle nvmlGpuInstanceGetInfo;
    final MethodHandle nvmlGpuInstanceGetComputeInstances;
    final MethodHandle nvmlComputeInstanceGetInfo_v2;

    MigFunctions(NvmlLibrary lib) {
        nvmlDeviceIsMigDeviceHandle = lib.required("nvmlDeviceIsMigDeviceHandle", of(JAVA_INT, ADDRESS, ADDRESS));
        nvmlDeviceGetMaxMigDeviceCount = lib.required("nvmlDeviceGetMaxMigDeviceCount", of(JAVA_INT, ADDRESS, ADDRESS));
        nvmlDeviceGetMigDeviceHandleByIndex = lib.required("nvmlDeviceGetMigDeviceHandleByIndex",
                of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
        nvmlDeviceGetDeviceHandleFromMigDeviceHandle = lib.required("nvmlDeviceGetDeviceHandleFromMigDeviceHandle",
                of(JAVA_INT, ADDRESS, ADDRESS));
        nvmlDeviceGetGpuInstanceId = lib.required("nvmlDeviceGetGpuInstanceId", of(JAVA_INT, ADDRESS, ADDRESS));
        nvmlDeviceGetComputeInstanceId = lib.required("nvmlDeviceGetComputeInstanceId", of(JAVA_INT, ADDRESS, ADDRESS));
        nvmlDeviceGetAttributes_v2 = lib.required("nvmlDeviceGetAttributes_v2", of(JAVA_INT, ADDRESS, ADDRESS));
        nvmlDeviceGetGpuInstanceProfileInfoV = lib.optional("nvmlDeviceGetGpuInstanceProfileInfoV",
                "nvmlDeviceGetGpuInstanceProfileInfo", of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
        nvmlDeviceGetGpuInstanceProfileInfo = lib.optional("nvmlDeviceGetGpuInstanceProfileInfo",
                of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
        nvmlDeviceGetGpuInstances = lib.required("nvmlDeviceGetGpuInstances",
                of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, ADDRESS));
        nvmlDeviceGetGpuInstanceById = lib.required("nvmlDeviceGetGpuInstanceById",
                of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
        nvmlGpuInstanceGetInfo = lib.required("nvmlGpuInstanceGetInfo", of(JAVA_INT, ADDRESS, ADDRESS));
        nvmlGpuInstanceGetComputeInstances = lib.required("nvmlGpuInstanceGetComputeInstances",
                of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, ADDRESS));
        nvmlComputeInstanceGetInfo_v2 = lib.required("nvmlComputeInstanceGetInfo_v2", of(JAVA_INT, ADDRESS, ADDRESS));
        lib.requireEither(nvmlDeviceGetGpuInstanceProfileInfoV, nvmlDeviceGetGpuInstanceProfileInfo,
                "nvmlDeviceGetGpuInstanceProfileInfoV", "nvmlDeviceGetGpuInstanceProfileInfo");
    }
}
