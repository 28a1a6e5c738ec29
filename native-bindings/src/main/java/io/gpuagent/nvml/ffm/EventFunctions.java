package io.gpuagent.nvml.ffm;

import static java.lang.foreign.FunctionDescriptor.of;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.invoke.MethodHandle;

/** Event sets (docs/nvml.md#events). The wait blocks up to its timeout. */
final class EventFunctions {
    final MethodHandle nvmlEventSetCreate;
    final MethodHandle nvmlDeviceGetSupportedEventTypes;
    final MethodHandle nvmlDeviceRegisterEvents;
    final MethodHandle nvmlEventSetWait_v2;
    final MethodHandle nvmlEventSetFree;

    EventFunctions(NvmlLibrary lib) {
        nvmlEventSetCreate = lib.required("nvmlEventSetCreate", of(JAVA_INT, ADDRESS));
        nvmlDeviceGetSupportedEventTypes = lib.required("nvmlDeviceGetSupportedEventTypes",
                of(JAVA_INT, ADDRESS, ADDRESS));
        nvmlDeviceRegisterEvents = lib.required("nvmlDeviceRegisterEvents", of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS));
        nvmlEventSetWait_v2 = lib.required("nvmlEventSetWait_v2", of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
        nvmlEventSetFree = lib.required("nvmlEventSetFree", of(JAVA_INT, ADDRESS));
    }
}
