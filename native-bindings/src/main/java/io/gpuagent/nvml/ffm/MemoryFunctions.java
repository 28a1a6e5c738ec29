package io.gpuagent.nvml.ffm;

import static java.lang.foreign.FunctionDescriptor.of;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.invoke.MethodHandle;

/** Frame-buffer and BAR1 memory, utilization (docs/nvml.md#memory-and-utilization). */
final class MemoryFunctions {
    /** Optional: null on older drivers, which have {@link #nvmlDeviceGetMemoryInfo}. */
    final MethodHandle nvmlDeviceGetMemoryInfo_v2;
    final MethodHandle nvmlDeviceGetMemoryInfo;  // optional (the fallback)
    final MethodHandle nvmlDeviceGetBAR1MemoryInfo;
    final MethodHandle nvmlDeviceGetUtilizationRates;
    final MethodHandle nvmlDeviceGetEncoderUtilization;
    final MethodHandle nvmlDeviceGetDecoderUtilization;

    MemoryFunctions(NvmlLibrary lib) {
        nvmlDeviceGetMemoryInfo_v2 = lib.optional("nvmlDeviceGetMemoryInfo_v2",
                "nvmlDeviceGetMemoryInfo", of(JAVA_INT, ADDRESS, ADDRESS));
        nvmlDeviceGetMemoryInfo = lib.optional("nvmlDeviceGetMemoryInfo", of(JAVA_INT, ADDRESS, ADDRESS));
        nvmlDeviceGetBAR1MemoryInfo = lib.required("nvmlDeviceGetBAR1MemoryInfo", of(JAVA_INT, ADDRESS, ADDRESS));
        nvmlDeviceGetUtilizationRates = lib.required("nvmlDeviceGetUtilizationRates", of(JAVA_INT, ADDRESS, ADDRESS));
        nvmlDeviceGetEncoderUtilization = lib.required("nvmlDeviceGetEncoderUtilization",
                of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        nvmlDeviceGetDecoderUtilization = lib.required("nvmlDeviceGetDecoderUtilization",
                of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        lib.requireEither(nvmlDeviceGetMemoryInfo_v2, nvmlDeviceGetMemoryInfo,
                "nvmlDeviceGetMemoryInfo_v2", "nvmlDeviceGetMemoryInfo");
    }
}
