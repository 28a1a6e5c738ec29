package io.gpuagent.nvml.ffm;

import static java.lang.foreign.FunctionDescriptor.of;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.invoke.MethodHandle;

/** Temperatures and fans (docs/nvml.md#thermal-and-fans). */
final class ThermalFunctions {
    /** Optional: null on older drivers, which have {@link #nvmlDeviceGetTemperature}. */
    final MethodHandle nvmlDeviceGetTemperatureV;
    final MethodHandle nvmlDeviceGetTemperature;  // optional (the fallback)
    final MethodHandle nvmlDeviceGetTemperatureThreshold;
    final MethodHandle nvmlDeviceGetNumFans;
    final MethodHandle nvmlDeviceGetFanSpeed_v2;

    ThermalFunctions(NvmlLibrary lib) {
        nvmlDeviceGetTemperatureV = lib.optional("nvmlDeviceGetTemperatureV",
                "nvmlDeviceGetTemperature", of(JAVA_INT, ADDRESS, ADDRESS));
        nvmlDeviceGetTemperature = lib.optional("nvmlDeviceGetTemperature", of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
        nvmlDeviceGetTemperatureThreshold = lib.required("nvmlDeviceGetTemperatureThreshold",
                of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
        nvmlDeviceGetNumFans = lib.required("nvmlDeviceGetNumFans", of(JAVA_INT, ADDRESS, ADDRESS));
        nvmlDeviceGetFanSpeed_v2 = lib.required("nvmlDeviceGetFanSpeed_v2", of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
        lib.requireEither(nvmlDeviceGetTemperatureV, nvmlDeviceGetTemperature,
                "nvmlDeviceGetTemperatureV", "nvmlDeviceGetTemperature");
    }
}
