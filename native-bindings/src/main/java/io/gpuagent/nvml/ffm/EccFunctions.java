package io.gpuagent.nvml.ffm;

import static java.lang.foreign.FunctionDescriptor.of;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.invoke.MethodHandle;

/** ECC counters, retired pages and remapped rows (docs/nvml.md#ecc-and-memory-repair). */
final class EccFunctions {
    final MethodHandle nvmlDeviceGetEccMode;
    final MethodHandle nvmlDeviceGetTotalEccErrors;
    final MethodHandle nvmlDeviceGetRetiredPages;
    final MethodHandle nvmlDeviceGetRetiredPagesPendingStatus;
    final MethodHandle nvmlDeviceGetRemappedRows;
    final MethodHandle nvmlDeviceClearEccErrorCounts;

    EccFunctions(NvmlLibrary lib) {
        nvmlDeviceGetEccMode = lib.required("nvmlDeviceGetEccMode", of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        nvmlDeviceGetTotalEccErrors = lib.required("nvmlDeviceGetTotalEccErrors",
                of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS));
        nvmlDeviceGetRetiredPages = lib.required("nvmlDeviceGetRetiredPages",
                of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, ADDRESS));
        nvmlDeviceGetRetiredPagesPendingStatus = lib.required("nvmlDeviceGetRetiredPagesPendingStatus",
                of(JAVA_INT, ADDRESS, ADDRESS));
        nvmlDeviceGetRemappedRows = lib.required("nvmlDeviceGetRemappedRows",
                of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
        nvmlDeviceClearEccErrorCounts = lib.required("nvmlDeviceClearEccErrorCounts", of(JAVA_INT, ADDRESS, JAVA_INT));
    }
}
