package io.gpuagent.exporter;

import io.gpuagent.nvml.GpmMetricIds;
import io.gpuagent.nvml.GpmMetricValue;
import io.gpuagent.nvml.GpmSample;
import io.gpuagent.nvml.NvmlReturn;
import java.util.ArrayList;
import java.util.List;

/**
 * GPM (Hopper and newer): one GPM sample per GPU and read; the metrics (DCGM_FI_PROF_*: graphics engine,
 * SM, tensor and FP pipes, DRAM, NVLink bytes) are computed between the previous read's sample and this
 * one, which is freed once used, so at most one sample per GPU is held. Percentages become 0..1 ratios.
 * Where GPM reports PCIe bytes too, it supplies {@link Reading#PCIE_TX_BYTES_PER_SEC}/RX and spares the
 * 20 ms {@code nvmlDeviceGetPcieThroughput} calls. Absent on GPUs without GPM (support is static).
 */
final class GpmReader implements GpuReader {
    private static final long MIN_INTERVAL_NANOS = 100_000_000L; // GPM's internal refresh
    private static final double MIB = 1024.0 * 1024.0;
    private static final List<Reading> GPM_READINGS = gpmReadings();

    private static List<Reading> gpmReadings() {
        List<Reading> list = new ArrayList<>();
        for (Reading r : Reading.values()) {
            if (r.source() instanceof Reading.Source.Gpm) {
                list.add(r);
            }
        }
        return List.copyOf(list);
    }

    @Override
    public void read(ReadContext ctx) {
        List<Reading> wanted = new ArrayList<>();
        for (Reading r : GPM_READINGS) {
            if (ctx.wants(r)) {
                wanted.add(r);
            }
        }
        boolean pcie = ctx.wantsAny(Reading.PCIE_TX_BYTES_PER_SEC, Reading.PCIE_RX_BYTES_PER_SEC)
                && ctx.state.reads >= ctx.state.gpmPcieRetryAt;
        if (wanted.isEmpty() && !pcie) {
            ctx.state.releaseNative();
            return;
        }
        Reading[] fills = wanted.toArray(Reading[]::new);
        if (ctx.state.gpmSupported == null || ctx.staticDue) {
            Boolean supported = ctx.call("nvmlGpmQueryDeviceSupport", ctx.device::gpmSupported, fills);
            if (supported == null) {
                return;
            }
            ctx.state.gpmSupported = supported;
        }
        if (!ctx.state.gpmSupported) {
            for (Reading r : wanted) {
                ctx.unsupported(r);
            }
            ctx.state.releaseNative();
            return;
        }
        GpmSample current = ctx.call("nvmlGpmSampleGet", ctx.device::gpmSample, fills);
        if (current == null) {
            return;
        }
        long now = System.nanoTime();
        GpmSample previous = ctx.state.gpmPrevious;
        if (previous == null) {
            keep(ctx, current, now);
            return; // the first sample: no interval yet
        }
        if (now - ctx.state.gpmPreviousNanos < MIN_INTERVAL_NANOS) {
            current.close(); // too soon after the previous one: measure from the older sample next time
            return;
        }
        try {
            metrics(ctx, previous, current, wanted, pcie);
        } finally {
            previous.close();
            keep(ctx, current, now);
        }
    }

    private static void keep(ReadContext ctx, GpmSample sample, long nanos) {
        ctx.state.gpmPrevious = sample;
        ctx.state.gpmPreviousNanos = nanos;
    }

    private static void metrics(ReadContext ctx, GpmSample previous, GpmSample current, List<Reading> wanted,
                                boolean pcie) {
        int[] ids = new int[wanted.size() + (pcie ? 2 : 0)];
        for (int i = 0; i < wanted.size(); i++) {
            ids[i] = ((Reading.Source.Gpm) wanted.get(i).source()).metricId();
        }
        if (pcie) {
            ids[wanted.size()] = GpmMetricIds.PCIE_TX_PER_SEC;
            ids[wanted.size() + 1] = GpmMetricIds.PCIE_RX_PER_SEC;
        }
        List<GpmMetricValue> values = ctx.call("nvmlGpmMetricsGet", () -> ctx.device.gpmMetrics(previous, current, ids),
                wanted.toArray(Reading[]::new));
        if (values == null) {
            return;
        }
        for (GpmMetricValue v : values) {
            Reading r = forMetric(v.metricId(), wanted);
            boolean pcieMetric = v.metricId() == GpmMetricIds.PCIE_TX_PER_SEC || v.metricId() == GpmMetricIds.PCIE_RX_PER_SEC;
            if (r == null) {
                continue;
            }
            if (v.ok()) {
                double scale = pcieMetric ? MIB : ((Reading.Source.Gpm) r.source()).scale();
                ctx.set(r, v.value() * scale);
            } else if (v.returnCode() == NvmlReturn.NOT_SUPPORTED.code()) {
                if (pcieMetric) {
                    ctx.state.gpmPcieRetryAt = ctx.state.reads + ctx.settings.notSupportedRetry();
                } else {
                    ctx.unsupported(r);
                }
            } else {
                ctx.meters.nvmlError("nvmlGpmMetricsGet", v.returnCode());
            }
        }
    }

    private static Reading forMetric(int metricId, List<Reading> wanted) {
        if (metricId == GpmMetricIds.PCIE_TX_PER_SEC) {
            return Reading.PCIE_TX_BYTES_PER_SEC;
        }
        if (metricId == GpmMetricIds.PCIE_RX_PER_SEC) {
            return Reading.PCIE_RX_BYTES_PER_SEC;
        }
        for (Reading r : wanted) {
            if (((Reading.Source.Gpm) r.source()).metricId() == metricId) {
                return r;
            }
        }
        return null;
    }
}
