package io.gpuagent.nvml.ffm;

import static io.gpuagent.nvml.ffm.Native.check;
import static io.gpuagent.nvml.ffm.Native.rethrow;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import io.gpuagent.nvml.ComputeCapability;
import io.gpuagent.nvml.FabricInfo;
import io.gpuagent.nvml.GpuDevice;
import io.gpuagent.nvml.MigMode;
import io.gpuagent.nvml.NvmlException;
import io.gpuagent.nvml.P2pCapability;
import io.gpuagent.nvml.P2pStatus;
import io.gpuagent.nvml.PciInfo;
import io.gpuagent.nvml.PcieLink;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.Objects;

/**
 * What a GPU is and how it is wired: identity, MIG mode, PCIe link and peers, NVLink links. The part of
 * {@link FfmGpuDevice} that inventory and topology ask once in a while; split off so each file reads as one
 * concern. Sealed: it exists only as that class.
 */
abstract sealed class FfmDeviceIdentity implements GpuDevice permits FfmGpuDevice {

    /** {@code NVML_NVLINK_MAX_LINKS} of the newest header. */
    private static final int MAX_NVLINKS = 36;

    final FfmNvml nvml;
    final Functions fn;
    final DeviceCalls calls;
    final int index;
    final MemorySegment handle;

    FfmDeviceIdentity(FfmNvml nvml, int index, MemorySegment handle) {
        this.nvml = nvml;
        this.fn = nvml.fn;
        this.calls = new DeviceCalls(nvml);
        this.index = index;
        this.handle = handle;
    }

    MemorySegment handle() {
        return handle;
    }

    FfmNvml nvml() {
        return nvml;
    }

    static int indexOf(FfmNvml nvml, MemorySegment handle) {
        try (var held = nvml.hold("nvmlDeviceGetIndex"); Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            check((int) nvml.fn.identity.nvmlDeviceGetIndex.invokeExact(handle, out), "nvmlDeviceGetIndex");
            return out.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ---- identity ----------------------------------------------------------------------------------

    @Override
    public int index() {
        return index;
    }

    @Override
    public String name() {
        return calls.string("nvmlDeviceGetName", Native.NAME_SIZE, fn.identity.nvmlDeviceGetName, handle);
    }

    @Override
    public String uuid() {
        return calls.string("nvmlDeviceGetUUID", Native.UUID_SIZE, fn.identity.nvmlDeviceGetUUID, handle);
    }

    @Override
    public String serial() {
        return calls.string("nvmlDeviceGetSerial", Native.SERIAL_SIZE, fn.identity.nvmlDeviceGetSerial, handle);
    }

    @Override
    public int minorNumber() {
        return calls.uint("nvmlDeviceGetMinorNumber", out -> (int) fn.identity.nvmlDeviceGetMinorNumber.invokeExact(handle, out));
    }

    @Override
    public PciInfo pciInfo() {
        return calls.struct("nvmlDeviceGetPciInfo_v3", Layouts.PCI_INFO,
                out -> (int) fn.identity.nvmlDeviceGetPciInfo_v3.invokeExact(handle, out), Structs::pciInfo);
    }

    @Override
    public int architecture() {
        return calls.uint("nvmlDeviceGetArchitecture", out -> (int) fn.identity.nvmlDeviceGetArchitecture.invokeExact(handle, out));
    }

    @Override
    public ComputeCapability computeCapability() {
        int[] v = calls.ints("nvmlDeviceGetCudaComputeCapability", 2,
                out -> (int) fn.identity.nvmlDeviceGetCudaComputeCapability.invokeExact(handle, out, out.asSlice(4)));
        return new ComputeCapability(v[0], v[1]);
    }

    @Override
    public String vbiosVersion() {
        return calls.string("nvmlDeviceGetVbiosVersion", Native.VBIOS_SIZE, fn.identity.nvmlDeviceGetVbiosVersion, handle);
    }

    @Override
    public int brand() {
        return calls.uint("nvmlDeviceGetBrand", out -> (int) fn.identity.nvmlDeviceGetBrand.invokeExact(handle, out));
    }

    @Override
    public MigMode migMode() {
        int[] v = calls.ints("nvmlDeviceGetMigMode", 2, out -> (int) fn.identity.nvmlDeviceGetMigMode.invokeExact(handle, out, out.asSlice(4)));
        return new MigMode(v[0] != 0, v[1] != 0);
    }

    // ---- PCIe link and peers ----------------------------------------------------------------------

    @Override
    public PcieLink pcieLink() {
        return new PcieLink(
                calls.uint("nvmlDeviceGetCurrPcieLinkGeneration", out -> (int) fn.pcie.nvmlDeviceGetCurrPcieLinkGeneration.invokeExact(handle, out)),
                calls.uint("nvmlDeviceGetCurrPcieLinkWidth", out -> (int) fn.pcie.nvmlDeviceGetCurrPcieLinkWidth.invokeExact(handle, out)),
                calls.uint("nvmlDeviceGetMaxPcieLinkGeneration", out -> (int) fn.pcie.nvmlDeviceGetMaxPcieLinkGeneration.invokeExact(handle, out)),
                calls.uint("nvmlDeviceGetMaxPcieLinkWidth", out -> (int) fn.pcie.nvmlDeviceGetMaxPcieLinkWidth.invokeExact(handle, out)));
    }

    @Override
    public int topologyCommonAncestor(GpuDevice other) {
        MemorySegment peer = ((FfmDeviceIdentity) Objects.requireNonNull(other, "other")).handle;
        return calls.uint("nvmlDeviceGetTopologyCommonAncestor",
                out -> (int) fn.pcie.nvmlDeviceGetTopologyCommonAncestor.invokeExact(handle, peer, out));
    }

    @Override
    public P2pStatus p2pStatus(GpuDevice other, P2pCapability capability) {
        MemorySegment peer = ((FfmDeviceIdentity) Objects.requireNonNull(other, "other")).handle;
        int cap = capability.code();
        return P2pStatus.of(calls.uint("nvmlDeviceGetP2PStatus",
                out -> (int) fn.pcie.nvmlDeviceGetP2PStatus.invokeExact(handle, peer, cap, out)));
    }

    @Override
    public FabricInfo fabricInfo() {
        MethodHandle v = fn.nvlink.nvmlDeviceGetGpuFabricInfoV;
        MethodHandle old = fn.nvlink.nvmlDeviceGetGpuFabricInfo;
        if (v == null && old == null) {
            throw new NvmlException(Native.NOT_SUPPORTED, "nvmlDeviceGetGpuFabricInfo");
        }
        return calls.newer("nvmlDeviceGetGpuFabricInfoV", v, old != null, Layouts.GPU_FABRIC_INFO_V3,
                        f -> (int) v.invokeExact(handle, Structs.versioned(f, Layouts.GPU_FABRIC_INFO_V3_VERSION)),
                        Structs::fabricInfoV3)
                .orElseGet(() -> calls.struct("nvmlDeviceGetGpuFabricInfo", Layouts.GPU_FABRIC_INFO,
                        f -> (int) old.invokeExact(handle, f), Structs::fabricInfo));
    }

    // ---- NVLink ------------------------------------------------------------------------------------

    @Override
    public int nvLinkCount() {
        String function = "nvmlDeviceGetNvLinkState";
        try (var held = nvml.hold(function); Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            for (int link = 0; link < MAX_NVLINKS; link++) {
                int rc = (int) fn.nvlink.nvmlDeviceGetNvLinkState.invokeExact(handle, link, out);
                if (rc == Native.INVALID_ARGUMENT || rc == Native.NOT_SUPPORTED) {
                    return link;
                }
                check(rc, function);
            }
            return MAX_NVLINKS;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    @Override
    public boolean nvLinkActive(int link) {
        return calls.uint("nvmlDeviceGetNvLinkState", out -> (int) fn.nvlink.nvmlDeviceGetNvLinkState.invokeExact(handle, link, out)) != 0;
    }

    @Override
    public PciInfo nvLinkRemotePciInfo(int link) {
        return calls.struct("nvmlDeviceGetNvLinkRemotePciInfo_v2", Layouts.PCI_INFO,
                out -> (int) fn.nvlink.nvmlDeviceGetNvLinkRemotePciInfo_v2.invokeExact(handle, link, out), Structs::pciInfo);
    }
}
