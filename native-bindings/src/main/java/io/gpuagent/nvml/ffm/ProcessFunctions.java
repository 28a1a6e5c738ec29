package io.gpuagent.nvml.ffm;

import static java.lang.foreign.FunctionDescriptor.of;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.invoke.MethodHandle;

/** Running processes (docs/nvml.md#process-lists). */
final class ProcessFunctions {
    final MethodHandle nvmlDeviceGetComputeRunningProcesses_v3;
    final MethodHandle nvmlDeviceGetGraphicsRunningProcesses_v3;
    final MethodHandle nvmlDeviceGetRunningProcessDetailList;  // optional: a capability

    ProcessFunctions(NvmlLibrary lib) {
        nvmlDeviceGetComputeRunningProcesses_v3 = lib.required("nvmlDeviceGetComputeRunningProcesses_v3",
                of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        nvmlDeviceGetGraphicsRunningProcesses_v3 = lib.required("nvmlDeviceGetGraphicsRunningProcesses_v3",
                of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        nvmlDeviceGetRunningProcessDetailList = lib.optional("nvmlDeviceGetRunningProcessDetailList",
                of(JAVA_INT, ADDRESS, ADDRESS));
    }
}
