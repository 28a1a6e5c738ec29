package io.gpuagent.exporter;

import io.gpuagent.nvml.NvLinkErrorCounter;
import java.util.ArrayList;
import java.util.List;

/**
 * Per-link NVLink state every read ({@code nvmlDeviceGetNvLinkState}, one call per link: a link that was up
 * and is down shows within one interval). The per-link error counters (4 calls per link, 72 on an H100) are
 * re-read only when a summed total from the field batch moved since the previous read, when the totals are
 * not available, or every {@link SamplerSettings#staticEvery()} reads; otherwise carried over. The link
 * count is static (probed once: {@link io.gpuagent.nvml.GpuDevice#nvLinkCount()}).
 */
final class NvLinkReader implements GpuReader {
    private static final Reading[] TOTALS = {Reading.NVLINK_CRC_FLIT_ERRORS, Reading.NVLINK_CRC_DATA_ERRORS,
            Reading.NVLINK_REPLAY_ERRORS, Reading.NVLINK_RECOVERY_ERRORS};

    @Override
    public void read(ReadContext ctx) {
        if (!ctx.wants(Reading.NVLINK_LINKS)) {
            return;
        }
        GpuState st = ctx.state;
        if (st.nvLinkCount < 0 || ctx.staticDue) {
            Integer n = ctx.call("nvmlDeviceGetNvLinkState", ctx.device::nvLinkCount, Reading.NVLINK_LINKS);
            if (n == null) {
                return;
            }
            st.nvLinkCount = n;
        }
        if (st.nvLinkCount == 0) {
            ctx.unsupported(Reading.NVLINK_LINKS);
            return;
        }
        boolean countersDue = ctx.staticDue || st.lastLinks.size() != st.nvLinkCount || totalsMoved(ctx);
        List<NvLinkInfo> links = new ArrayList<>(st.nvLinkCount);
        int active = 0;
        for (int link = 0; link < st.nvLinkCount; link++) {
            int l = link;
            Boolean up = ctx.call("nvmlDeviceGetNvLinkState", () -> ctx.device.nvLinkActive(l));
            boolean isUp = Boolean.TRUE.equals(up);
            if (isUp) {
                active++;
            }
            NvLinkInfo previous = link < st.lastLinks.size() ? st.lastLinks.get(link) : null;
            if (isUp && countersDue && st.reads >= st.nvLinkCountersRetryAt) {
                links.add(new NvLinkInfo(link, true, counter(ctx, l, NvLinkErrorCounter.DL_REPLAY),
                        counter(ctx, l, NvLinkErrorCounter.DL_RECOVERY), counter(ctx, l, NvLinkErrorCounter.DL_CRC_FLIT),
                        counter(ctx, l, NvLinkErrorCounter.DL_CRC_DATA)));
            } else if (previous != null) {
                links.add(new NvLinkInfo(link, isUp, previous.replay(), previous.recovery(), previous.crcFlit(),
                        previous.crcData()));
            } else {
                links.add(new NvLinkInfo(link, isUp, -1, -1, -1, -1));
            }
        }
        st.lastLinks = List.copyOf(links);
        ctx.nvLinks = st.lastLinks;
        ctx.set(Reading.NVLINK_LINKS, active);
    }

    private static boolean totalsMoved(ReadContext ctx) {
        for (Reading total : TOTALS) {
            double now = ctx.get(total);
            double before = ctx.previous(total);
            if (Double.isNaN(now) || Double.isNaN(before) || now != before) {
                return true;
            }
        }
        return false;
    }

    private static long counter(ReadContext ctx, int link, NvLinkErrorCounter which) {
        Long v = ctx.call("nvmlDeviceGetNvLinkErrorCounter", () -> ctx.device.nvLinkErrorCounter(link, which));
        if (v == null && ctx.lastNotSupported) {
            ctx.state.nvLinkCountersRetryAt = ctx.state.reads + ctx.settings.notSupportedRetry();
        }
        return v == null ? -1 : v;
    }
}
