package io.gpuagent.nvml.ffm;

import static java.lang.foreign.FunctionDescriptor.of;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.invoke.MethodHandle;

/** Identity, inventory and MIG mode of one device (docs/nvml.md#devices-and-handles, #mig). */
final class DeviceIdentityFunctions {
    final MethodHandle nvmlDeviceGetIndex;
    final MethodHandle nvmlDeviceGetName;
    final MethodHandle nvmlDeviceGetUUID;
    final MethodHandle nvmlDeviceGetSerial;
    final MethodHandle nvmlDeviceGetMinorNumber;
    final MethodHandle nvmlDeviceGetPciInfo_v3;
    final MethodHandle nvmlDeviceGetArchitecture;
    final MethodHandle nvmlDeviceGetCudaComputeCapability;
    final MethodHandle nvmlDeviceGetVbiosVersion;
    final MethodHandle nvmlDeviceGetBrand;
    final MethodHandle nvmlDeviceGetMigMode;

    DeviceIdentityFunctions(NvmlLibrary lib) {
        nvmlDeviceGetIndex = lib.required("nvmlDeviceGetIndex", of(JAVA_INT, ADDRESS, ADDRESS));
        nvmlDeviceGetName = lib.required("nvmlDeviceGetName", of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
        nvmlDeviceGetUUID = lib.required("nvmlDeviceGetUUID", of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
        nvmlDeviceGetSerial = lib.required("nvmlDeviceGetSerial", of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
        nvmlDeviceGetMinorNumber = lib.required("nvmlDeviceGetMinorNumber", of(JAVA_INT, ADDRESS, ADDRESS));
        nvmlDeviceGetPciInfo_v3 = lib.required("nvmlDeviceGetPciInfo_v3", of(JAVA_INT, ADDRESS, ADDRESS));
        nvmlDeviceGetArchitecture = lib.required("nvmlDeviceGetArchitecture", of(JAVA_INT, ADDRESS, ADDRESS));
        nvmlDeviceGetCudaComputeCapability = lib.required("nvmlDeviceGetCudaComputeCapability",
                of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        nvmlDeviceGetVbiosVersion = lib.required("nvmlDeviceGetVbiosVersion", of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
        nvmlDeviceGetBrand = lib.required("nvmlDeviceGetBrand", of(JAVA_INT, ADDRESS, ADDRESS));
        nvmlDeviceGetMigMode = lib.required("nvmlDeviceGetMigMode", of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
    }
}
