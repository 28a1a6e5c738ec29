package io.gpuagent.exporter;

import io.gpuagent.nvml.PciInfo;

/**
 * A GPU's identity, read once per GPU and NVML instance. The UUID is required (a GPU without one cannot be
 * labelled); the rest is optional and empty when the GPU does not report it.
 */
final class IdentityReader {
    private IdentityReader() {
    }

    static GpuInfo read(ReadContext ctx) {
        var d = ctx.device;
        String uuid = ctx.call("nvmlDeviceGetUUID", d::uuid);
        if (uuid == null || uuid.isEmpty()) {
            throw new ReadContext.ReadFailedException("cannot read the GPU's UUID");
        }
        String name = ctx.call("nvmlDeviceGetName", d::name);
        PciInfo pci = ctx.call("nvmlDeviceGetPciInfo_v3", d::pciInfo);
        Integer minor = ctx.call("nvmlDeviceGetMinorNumber", d::minorNumber);
        String serial = ctx.call("nvmlDeviceGetSerial", d::serial);
        String vbios = ctx.call("nvmlDeviceGetVbiosVersion", d::vbiosVersion);
        return new GpuInfo(ctx.state.index, uuid, name, pci == null ? "" : pci.label(), minor == null ? -1 : minor,
                serial, vbios, pci);
    }
}
