package io.gpuagent.nvml.ffm;

import static java.lang.foreign.FunctionDescriptor.of;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.invoke.MethodHandle;

/** State-changing operations, root on a real host (docs/nvml.md#control-operations, #drain-removal-and-reset). */
final class ControlFunctions {
    final MethodHandle nvmlDeviceGetPersistenceMode;
    final MethodHandle nvmlDeviceSetPersistenceMode;
    /** Optional: null on older drivers, which have {@link #nvmlDeviceSetPowerManagementLimit}. */
    final MethodHandle nvmlDeviceSetPowerManagementLimit_v2;
    final MethodHandle nvmlDeviceSetPowerManagementLimit;  // optional (the fallback)
    final MethodHandle nvmlDeviceResetApplicationsClocks;  // optional: a capability
    final MethodHandle nvmlDeviceResetGpuLockedClocks;
    final MethodHandle nvmlDeviceResetMemoryLockedClocks;
    final MethodHandle nvmlDeviceQueryDrainState;
    final MethodHandle nvmlDeviceModifyDrainState;
    final MethodHandle nvmlDeviceRemoveGpu_v2;

    ControlFunctions(NvmlLibrary lib) {
        nvmlDeviceGetPersistenceMode = lib.required("nvmlDeviceGetPersistenceMode", of(JAVA_INT, ADDRESS, ADDRESS));
        nvmlDeviceSetPersistenceMode = lib.required("nvmlDeviceSetPersistenceMode", of(JAVA_INT, ADDRESS, JAVA_INT));
        nvmlDeviceSetPowerManagementLimit_v2 = lib.optional("nvmlDeviceSetPowerManagementLimit_v2",
                "nvmlDeviceSetPowerManagementLimit", of(JAVA_INT, ADDRESS, ADDRESS));
        nvmlDeviceSetPowerManagementLimit = lib.optional("nvmlDeviceSetPowerManagementLimit",
                of(JAVA_INT, ADDRESS, JAVA_INT));
        nvmlDeviceResetApplicationsClocks = lib.optional("nvmlDeviceResetApplicationsClocks", of(JAVA_INT, ADDRESS));
        nvmlDeviceResetGpuLockedClocks = lib.required("nvmlDeviceResetGpuLockedClocks", of(JAVA_INT, ADDRESS));
        nvmlDeviceResetMemoryLockedClocks = lib.required("nvmlDeviceResetMemoryLockedClocks", of(JAVA_INT, ADDRESS));
        nvmlDeviceQueryDrainState = lib.required("nvmlDeviceQueryDrainState", of(JAVA_INT, ADDRESS, ADDRESS));
        nvmlDeviceModifyDrainState = lib.required("nvmlDeviceModifyDrainState", of(JAVA_INT, ADDRESS, JAVA_INT));
        nvmlDeviceRemoveGpu_v2 = lib.required("nvmlDeviceRemoveGpu_v2", of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        lib.requireEither(nvmlDeviceSetPowerManagementLimit_v2, nvmlDeviceSetPowerManagementLimit,
                "nvmlDeviceSetPowerManagementLimit_v2", "nvmlDeviceSetPowerManagementLimit");
    }
}
