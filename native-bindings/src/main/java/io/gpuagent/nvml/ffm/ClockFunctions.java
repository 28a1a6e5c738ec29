package io.gpuagent.nvml.ffm;

import static java.lang.foreign.FunctionDescriptor.of;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.invoke.MethodHandle;

/** Clocks, clock event (throttle) reasons and P-state (docs/nvml.md#clocks). */
final class ClockFunctions {
    final MethodHandle nvmlDeviceGetClockInfo;
    final MethodHandle nvmlDeviceGetMaxClockInfo;
    /** Optional: null on older drivers, which have {@link #nvmlDeviceGetCurrentClocksThrottleReasons}. */
    final MethodHandle nvmlDeviceGetCurrentClocksEventReasons;
    final MethodHandle nvmlDeviceGetCurrentClocksThrottleReasons;  // optional (the fallback)
    /** Optional: null on older drivers, which have {@link #nvmlDeviceGetSupportedClocksThrottleReasons}. */
    final MethodHandle nvmlDeviceGetSupportedClocksEventReasons;
    final MethodHandle nvmlDeviceGetSupportedClocksThrottleReasons;  // optional (the fallback)
    final MethodHandle nvmlDeviceGetPerformanceState;

    ClockFunctions(NvmlLibrary lib) {
        nvmlDeviceGetClockInfo = lib.required("nvmlDeviceGetClockInfo", of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
        nvmlDeviceGetMaxClockInfo = lib.required("nvmlDeviceGetMaxClockInfo", of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
        nvmlDeviceGetCurrentClocksEventReasons = lib.optional("nvmlDeviceGetCurrentClocksEventReasons",
                "nvmlDeviceGetCurrentClocksThrottleReasons", of(JAVA_INT, ADDRESS, ADDRESS));
        nvmlDeviceGetCurrentClocksThrottleReasons = lib.optional("nvmlDeviceGetCurrentClocksThrottleReasons",
                of(JAVA_INT, ADDRESS, ADDRESS));
        nvmlDeviceGetSupportedClocksEventReasons = lib.optional("nvmlDeviceGetSupportedClocksEventReasons",
                "nvmlDeviceGetSupportedClocksThrottleReasons", of(JAVA_INT, ADDRESS, ADDRESS));
        nvmlDeviceGetSupportedClocksThrottleReasons = lib.optional("nvmlDeviceGetSupportedClocksThrottleReasons",
                of(JAVA_INT, ADDRESS, ADDRESS));
        nvmlDeviceGetPerformanceState = lib.required("nvmlDeviceGetPerformanceState", of(JAVA_INT, ADDRESS, ADDRESS));
        lib.requireEither(nvmlDeviceGetCurrentClocksEventReasons, nvmlDeviceGetCurrentClocksThrottleReasons,
                "nvmlDeviceGetCurrentClocksEventReasons", "nvmlDeviceGetCurrentClocksThrottleReasons");
        lib.requireEither(nvmlDeviceGetSupportedClocksEventReasons, nvmlDeviceGetSupportedClocksThrottleReasons,
                "nvmlDeviceGetSupportedClocksEventReasons", "nvmlDeviceGetSupportedClocksThrottleReasons");
    }
}
