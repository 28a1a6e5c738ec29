package io.gpuagent.nvml.ffm;

import static java.lang.foreign.FunctionDescriptor.of;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.invoke.MethodHandle;

/** Power readings, limits and energy (docs/nvml.md#power). */
final class PowerFunctions {
    final MethodHandle nvmlDeviceGetPowerUsage;
    final MethodHandle nvmlDeviceGetPowerManagementLimit;
    final MethodHandle nvmlDeviceGetPowerManagementDefaultLimit;
    final MethodHandle nvmlDeviceGetEnforcedPowerLimit;
    final MethodHandle nvmlDeviceGetPowerManagementLimitConstraints;
    final MethodHandle nvmlDeviceGetTotalEnergyConsumption;

    PowerFunctions(NvmlLibrary lib) {
        nvmlDeviceGetPowerUsage = lib.required("nvmlDeviceGetPowerUsage", of(JAVA_INT, ADDRESS, ADDRESS));
        nvmlDeviceGetPowerManagementLimit = lib.required("nvmlDeviceGetPowerManagementLimit",
                of(JAVA_INT, ADDRESS, ADDRESS));
        nvmlDeviceGetPowerManagementDefaultLimit = lib.required("nvmlDeviceGetPowerManagementDefaultLimit",
                of(JAVA_INT, ADDRESS, ADDRESS));
        nvmlDeviceGetEnforcedPowerLimit = lib.required("nvmlDeviceGetEnforcedPowerLimit",
                of(JAVA_INT, ADDRESS, ADDRESS));
        nvmlDeviceGetPowerManagementLimitConstraints = lib.required("nvmlDeviceGetPowerManagementLimitConstraints",
                of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        nvmlDeviceGetTotalEnergyConsumption = lib.required("nvmlDeviceGetTotalEnergyConsumption",
                of(JAVA_INT, ADDRESS, ADDRESS));
    }
}
