package io.gpuagent.nvml.ffm;

import static java.lang.foreign.FunctionDescriptor.of;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.invoke.MethodHandle;

/** NVLink state, peers and error counters (docs/nvml.md#nvlink). */
final class NvLinkFunctions {
    final MethodHandle nvmlDeviceGetNvLinkState;
    final MethodHandle nvmlDeviceGetNvLinkRemotePciInfo_v2;
    final MethodHandle nvmlDeviceGetNvLinkErrorCounter;

    NvLinkFunctions(NvmlLibrary lib) {
        nvmlDeviceGetNvLinkState = lib.required("nvmlDeviceGetNvLinkState", of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
        nvmlDeviceGetNvLinkRemotePciInfo_v2 = lib.required("nvmlDeviceGetNvLinkRemotePciInfo_v2",
                of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
        nvmlDeviceGetNvLinkErrorCounter = lib.required("nvmlDeviceGetNvLinkErrorCounter",
                of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS));
    }
}
