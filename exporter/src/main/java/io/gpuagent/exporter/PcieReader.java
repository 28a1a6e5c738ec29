package io.gpuagent.exporter;

import io.gpuagent.nvml.PcieCounter;
import io.gpuagent.nvml.PcieLink;

/**
 * PCIe link generation/width and throughput. Throughput is taken from GPM by {@link GpmReader} where the GPU
 * has it (free); otherwise {@code nvmlDeviceGetPcieThroughput}, which counts over a 20 ms window and so
 * blocks this GPU's read ~20 ms per direction on real hardware (the reason it runs on the GPU's own worker,
 * and why a host that does not export DCGM_FI_PROF_PCIE_* should leave these readings out). The replay
 * counter comes from the field batch.
 */
final class PcieReader implements GpuReader {
    private static final double KB = 1024.0;

    @Override
    public void read(ReadContext ctx) {
        throughput(ctx, Reading.PCIE_TX_BYTES_PER_SEC, PcieCounter.TX_BYTES);
        throughput(ctx, Reading.PCIE_RX_BYTES_PER_SEC, PcieCounter.RX_BYTES);
        if (ctx.wantsAny(Reading.PCIE_LINK_GEN, Reading.PCIE_LINK_WIDTH, Reading.PCIE_MAX_LINK_GEN,
                Reading.PCIE_MAX_LINK_WIDTH)) {
            PcieLink link = ctx.call("nvmlDeviceGetCurrPcieLinkGeneration", ctx.device::pcieLink, Reading.PCIE_LINK_GEN,
                    Reading.PCIE_LINK_WIDTH, Reading.PCIE_MAX_LINK_GEN, Reading.PCIE_MAX_LINK_WIDTH);
            if (link != null) {
                ctx.set(Reading.PCIE_LINK_GEN, link.currentGeneration());
                ctx.set(Reading.PCIE_LINK_WIDTH, link.currentWidth());
                ctx.set(Reading.PCIE_MAX_LINK_GEN, link.maxGeneration());
                ctx.set(Reading.PCIE_MAX_LINK_WIDTH, link.maxWidth());
            }
        }
    }

    private static void throughput(ReadContext ctx, Reading r, PcieCounter counter) {
        if (!ctx.wants(r) || !Double.isNaN(ctx.get(r))) {
            return; // not wanted, or GPM already supplied it
        }
        Long kbps = ctx.call("nvmlDeviceGetPcieThroughput", () -> ctx.device.pcieThroughputKBps(counter), r);
        if (kbps != null) {
            ctx.set(r, kbps * KB);
        }
    }
}
