package io.gpuagent.nvml.ffm;

import static java.lang.foreign.FunctionDescriptor.of;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.invoke.MethodHandle;

/** NVLink state, peers and error counters, and the GPU's NVLink fabric (docs/nvml.md#nvlink). */
final class NvLinkFunctions {
    final MethodHandle nvmlDeviceGetNvLinkState;
    final MethodHandle nvmlDeviceGetNvLinkRemotePciInfo_v2;
    final MethodHandle nvmlDeviceGetNvLinkErrorCounter;
    /** Optional: 550+; null before, where {@link #nvmlDeviceGetGpuFabricInfo} answers without the health. */
    final MethodHandle nvmlDeviceGetGpuFabricInfoV;
    /** Optional (525+, the fallback); a driver with neither has no fabric to report. */
    final MethodHandle nvmlDeviceGetGpuFabricInfo;

    NvLinkFunctions(NvmlLibrary lib) {
        nvmlDeviceGetNvLinkState = lib.required("nvmlDeviceGetNvLinkState", of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
        nvmlDeviceGetNvLinkRemotePciInfo_v2 = lib.required("nvmlDeviceGetNvLinkRemotePciInfo_v2",
                of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
        nvmlDeviceGetNvLinkErrorCounter = lib.required("nvmlDeviceGetNvLinkErrorCounter",
                of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS));
        nvmlDeviceGetGpuFabricInfoV = lib.optional("nvmlDeviceGetGpuFabricInfoV", "nvmlDeviceGetGpuFabricInfo",
                of(JAVA_INT, ADDRESS, ADDRESS));
        nvmlDeviceGetGpuFabricInfo = lib.optional("nvmlDeviceGetGpuFabricInfo", of(JAVA_INT, ADDRESS, ADDRESS));
    }
}
