package io.gpuagent.nvml.ffm;

import static java.lang.foreign.FunctionDescriptor.of;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.invoke.MethodHandle;

/** Library lifecycle, system queries and device enumeration (docs/nvml.md#loading-and-lifecycle, #devices-and-handles). */
final class SystemFunctions {
    final MethodHandle nvmlInit_v2;
    final MethodHandle nvmlInitWithFlags;
    final MethodHandle nvmlShutdown;
    final MethodHandle nvmlErrorString;
    final MethodHandle nvmlSystemGetDriverVersion;
    final MethodHandle nvmlSystemGetNVMLVersion;
    /** Optional: null on older drivers, which have {@link #nvmlSystemGetCudaDriverVersion}. */
    final MethodHandle nvmlSystemGetCudaDriverVersion_v2;
    final MethodHandle nvmlSystemGetCudaDriverVersion;  // optional (the fallback)
    final MethodHandle nvmlDeviceGetCount_v2;
    final MethodHandle nvmlDeviceGetHandleByIndex_v2;
    final MethodHandle nvmlDeviceGetHandleByUUID;
    final MethodHandle nvmlDeviceGetHandleByPciBusId_v2;

    SystemFunctions(NvmlLibrary lib) {
        nvmlInit_v2 = lib.required("nvmlInit_v2", of(JAVA_INT));
        nvmlInitWithFlags = lib.required("nvmlInitWithFlags", of(JAVA_INT, JAVA_INT));
        nvmlShutdown = lib.required("nvmlShutdown", of(JAVA_INT));
        nvmlErrorString = lib.required("nvmlErrorString", of(ADDRESS, JAVA_INT));
        nvmlSystemGetDriverVersion = lib.required("nvmlSystemGetDriverVersion", of(JAVA_INT, ADDRESS, JAVA_INT));
        nvmlSystemGetNVMLVersion = lib.required("nvmlSystemGetNVMLVersion", of(JAVA_INT, ADDRESS, JAVA_INT));
        nvmlSystemGetCudaDriverVersion_v2 = lib.optional("nvmlSystemGetCudaDriverVersion_v2",
                "nvmlSystemGetCudaDriverVersion", of(JAVA_INT, ADDRESS));
        nvmlSystemGetCudaDriverVersion = lib.optional("nvmlSystemGetCudaDriverVersion", of(JAVA_INT, ADDRESS));
        nvmlDeviceGetCount_v2 = lib.required("nvmlDeviceGetCount_v2", of(JAVA_INT, ADDRESS));
        nvmlDeviceGetHandleByIndex_v2 = lib.required("nvmlDeviceGetHandleByIndex_v2", of(JAVA_INT, JAVA_INT, ADDRESS));
        nvmlDeviceGetHandleByUUID = lib.required("nvmlDeviceGetHandleByUUID", of(JAVA_INT, ADDRESS, ADDRESS));
        nvmlDeviceGetHandleByPciBusId_v2 = lib.required("nvmlDeviceGetHandleByPciBusId_v2",
                of(JAVA_INT, ADDRESS, ADDRESS));
        lib.requireEither(nvmlSystemGetCudaDriverVersion_v2, nvmlSystemGetCudaDriverVersion,
                "nvmlSystemGetCudaDriverVersion_v2", "nvmlSystemGetCudaDriverVersion");
    }
}
