package io.gpuagent.nvml.ffm;

import static java.lang.foreign.FunctionDescriptor.of;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.invoke.MethodHandle;

/** PCIe throughput, replays, link state, topology and peer-to-peer status (docs/nvml.md#pcie-and-topology). */
final class PcieFunctions {
    final MethodHandle nvmlDeviceGetPcieThroughput;
    final MethodHandle nvmlDeviceGetPcieReplayCounter;
    final MethodHandle nvmlDeviceGetCurrPcieLinkGeneration;
    final MethodHandle nvmlDeviceGetCurrPcieLinkWidth;
    final MethodHandle nvmlDeviceGetMaxPcieLinkGeneration;
    final MethodHandle nvmlDeviceGetMaxPcieLinkWidth;
    final MethodHandle nvmlDeviceGetTopologyCommonAncestor;
    final MethodHandle nvmlDeviceGetP2PStatus;

    PcieFunctions(NvmlLibrary lib) {
        nvmlDeviceGetPcieThroughput = lib.required("nvmlDeviceGetPcieThroughput",
                of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
        nvmlDeviceGetPcieReplayCounter = lib.required("nvmlDeviceGetPcieReplayCounter", of(JAVA_INT, ADDRESS, ADDRESS));
        nvmlDeviceGetCurrPcieLinkGeneration = lib.required("nvmlDeviceGetCurrPcieLinkGeneration",
                of(JAVA_INT, ADDRESS, ADDRESS));
        nvmlDeviceGetCurrPcieLinkWidth = lib.required("nvmlDeviceGetCurrPcieLinkWidth", of(JAVA_INT, ADDRESS, ADDRESS));
        nvmlDeviceGetMaxPcieLinkGeneration = lib.required("nvmlDeviceGetMaxPcieLinkGeneration",
                of(JAVA_INT, ADDRESS, ADDRESS));
        nvmlDeviceGetMaxPcieLinkWidth = lib.required("nvmlDeviceGetMaxPcieLinkWidth", of(JAVA_INT, ADDRESS, ADDRESS));
        nvmlDeviceGetTopologyCommonAncestor = lib.required("nvmlDeviceGetTopologyCommonAncestor",
                of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        nvmlDeviceGetP2PStatus = lib.required("nvmlDeviceGetP2PStatus", of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS));
    }
}
