package io.gpuagent.nvml.ffm;

import static java.lang.foreign.FunctionDescriptor.of;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.invoke.MethodHandle;

/** Batched field values (docs/nvml.md#field-values). */
final class FieldFunctions {
    final MethodHandle nvmlDeviceGetFieldValues;

    FieldFunctions(NvmlLibrary lib) {
        nvmlDeviceGetFieldValues = lib.required("nvmlDeviceGetFieldValues", of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
    }
}
