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
 *
 * <p>GPM shares the GPU's performance counters with DCGM's profiling module and Nsight; while one of them
 * holds them the driver answers IN_USE. That is not an error: the GPM readings pause (said once in the log
 * and as a note in {@code /v1/gpus/{id}}), the counters are asked again every {@value #IN_USE_RETRY} reads,
 * and the readings resume when they are free.
 */
final class GpmReader implements GpuReader {
    private static final System.Logger LOG = System.getLogger(GpmReader.class.getName());
    static final int IN_USE_RETRY = 30;
    private static final Object IN_USE = new Object();
    static final long MIN_INTERVAL_NANOS = 100_000_000L; // GPM's internal refresh
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
        GpuState st = ctx.state;
        if (st.gpmInUseSince != null && st.reads < st.gpmInUseRetryAt) {
            ctx.note(inUseNote(st));
            return;
        }
        Object taken = ctx.call("nvmlGpmSampleGet", () -> sampleUnlessInUse(ctx), fills);
        if (taken == IN_USE) {
            if (st.gpmInUseSince == null) {
                st.gpmInUseSince = java.time.Instant.now();
                LOG.log(System.Logger.Level.WARNING, "GPU " + st.index + ": GPM counters are in use by another profiler "
                        + "(DCGM profiling, Nsight); DCGM_FI_PROF_* readings pause and are retried every " + IN_USE_RETRY
                        + " reads. Stop the other profiler (or DCGM's profiling module) to resume them");
            }
            st.gpmInUseRetryAt = st.reads + IN_USE_RETRY;
            st.releaseNative();   // an interval across the pause would mix two owners' counters
            ctx.note(inUseNote(st));
            return;
        }
        if (taken == null) {
            return;
        }
        if (st.gpmInUseSince != null) {
            LOG.log(System.Logger.Level.INFO, "GPU " + st.index + ": GPM counters are free again; DCGM_FI_PROF_* resume");
            st.gpmInUseSince = null;
        }
        GpmSample current = (GpmSample) taken;
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

    private static Object sampleUnlessInUse(ReadContext ctx) {
        try {
            return ctx.device.gpmSample();
        } catch (io.gpuagent.nvml.NvmlException e) {
            if (e.result() == NvmlReturn.IN_USE) {
                return IN_USE;
            }
            throw e;
        }
    }

    private static String inUseNote(GpuState st) {
        return "GPM paused since " + st.gpmInUseSince + ": the counters are in use by another profiler (DCGM "
                + "profiling, Nsight); DCGM_FI_PROF_* resume when they are free";
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

    /** The reading {@code metricId} fills among {@code wanted} (or PCIe bytes); null for none. */
    static Reading forMetric(int metricId, List<Reading> wanted) {
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
