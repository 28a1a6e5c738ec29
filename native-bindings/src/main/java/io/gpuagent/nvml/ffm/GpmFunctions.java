package io.gpuagent.nvml.ffm;

import static java.lang.foreign.FunctionDescriptor.of;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.invoke.MethodHandle;

/** GPU Performance Monitoring (docs/nvml.md#gpm): a capability of 520+ drivers and Hopper+ GPUs. */
final class GpmFunctions {
    final MethodHandle nvmlGpmQueryDeviceSupport;  // optional: a capability
    final MethodHandle nvmlGpmSampleAlloc;  // optional: a capability
    final MethodHandle nvmlGpmSampleFree;  // optional: a capability
    final MethodHandle nvmlGpmSampleGet;  // optional: a capability
    final MethodHandle nvmlGpmMetricsGet;  // optional: a capability
    final MethodHandle nvmlGpmMigSampleGet;  // optional: a capability (525+)

    GpmFunctions(NvmlLibrary lib) {
        nvmlGpmQueryDeviceSupport = lib.optional("nvmlGpmQueryDeviceSupport", of(JAVA_INT, ADDRESS, ADDRESS));
        nvmlGpmSampleAlloc = lib.optional("nvmlGpmSampleAlloc", of(JAVA_INT, ADDRESS));
        nvmlGpmSampleFree = lib.optional("nvmlGpmSampleFree", of(JAVA_INT, ADDRESS));
        nvmlGpmSampleGet = lib.optional("nvmlGpmSampleGet", of(JAVA_INT, ADDRESS, ADDRESS));
        nvmlGpmMetricsGet = lib.optional("nvmlGpmMetricsGet", of(JAVA_INT, ADDRESS));
        nvmlGpmMigSampleGet = lib.optional("nvmlGpmMigSampleGet", of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
    }
}
