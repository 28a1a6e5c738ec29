package io.gpuagent.nvml;

/** Current and maximum PCIe link generation and width. */
public record PcieLink(int currentGeneration, int currentWidth, int maxGeneration, int maxWidth) {
    public boolean degraded() {
        return currentGeneration < maxGeneration || currentWidth < maxWidth;
    }
}
