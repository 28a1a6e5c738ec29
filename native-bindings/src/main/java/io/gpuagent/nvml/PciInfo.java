package io.gpuagent.nvml;

/** {@code nvmlPciInfo_t}. {@code busId} is NVML's long form, e.g. {@code 00000000:17:00.0}. */
public record PciInfo(String busIdLegacy, int domain, int bus, int device, int pciDeviceId, int pciSubSystemId, String busId) {
    /** dcgm-exporter's {@code pci_bus_id} label: the long bus id as NVML prints it. */
    public String label() {
        return busId;
    }
}
