package io.gpuagent.exporter;

import io.gpuagent.nvml.PciInfo;
import java.util.Objects;

/**
 * A GPU's identity, read once per GPU (per NVML instance) and cached by index. Strings are never null:
 * a value the GPU does not report is empty (e.g. {@code serial} on boards without one).
 *
 * @param index       NVML index (not stable across reboots: key data by {@code uuid})
 * @param uuid        {@code GPU-...}; empty only for a GPU whose identity could not be read yet
 * @param name        model name, dcgm-exporter's {@code modelName}
 * @param pciBusId    NVML's long bus id, e.g. {@code 00000000:18:00.0} (dcgm-exporter's {@code pci_bus_id})
 * @param minorNumber the {@code /dev/nvidia<minor>} number (dcgm-exporter's {@code device}), -1 if unknown
 * @param serial      board serial, empty if not reported
 * @param vbiosVersion VBIOS version, empty if not reported
 * @param pci         the full PCI record (drain and removal calls take it); null when unknown
 */
public record GpuInfo(int index, String uuid, String name, String pciBusId, int minorNumber, String serial,
                      String vbiosVersion, PciInfo pci) {

    public GpuInfo {
        uuid = Objects.requireNonNullElse(uuid, "");
        name = Objects.requireNonNullElse(name, "");
        pciBusId = Objects.requireNonNullElse(pciBusId, "");
        serial = Objects.requireNonNullElse(serial, "");
        vbiosVersion = Objects.requireNonNullElse(vbiosVersion, "");
    }

    /** A GPU whose identity has not been read (its first read is still running or failed). */
    public static GpuInfo unknown(int index) {
        return new GpuInfo(index, "", "", "", -1, "", "", null);
    }

    /** False for {@link #unknown(int)}: such a GPU has no series. */
    public boolean known() {
        return !uuid.isEmpty();
    }

    /** dcgm-exporter's {@code device} label: {@code nvidia<minor>}. */
    public String deviceName() {
        return minorNumber >= 0 ? "nvidia" + minorNumber : "";
    }
}
