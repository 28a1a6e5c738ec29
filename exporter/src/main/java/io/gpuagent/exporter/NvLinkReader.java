package io.gpuagent.exporter;

import io.gpuagent.nvml.NvLinkErrorCounter;
import java.util.ArrayList;
import java.util.List;

/**
 * Per-link NVLink state every read ({@code nvmlDeviceGetNvLinkState}, one call per link: a link that was up
 * and is down shows within one interval). The per-link error counters (4 calls per link, 72 on an H100) are
 * re-read only when a summed total from the field batch moved since the previous read, or every
 * {@link SamplerSettings#staticEvery()} reads; otherwise carried over. Where the driver has no totals, every
 * {@value #EVERY_WITHOUT_TOTALS} reads: an unknown total is no news, and re-reading every link each second
 * would cost 72 calls per GPU and second.
 *
 * <p>Support is remembered per counter kind and per GPU: a driver may answer NOT_SUPPORTED for one kind
 * (say DL recovery) and serve the others, so one refusal stops only that kind, on every link, until it is
 * retried after {@link SamplerSettings#notSupportedRetry()} reads. The link count is static (probed once:
 * {@link io.gpuagent.nvml.GpuDevice#nvLinkCount()}).
 */
final class NvLinkReader implements GpuReader {
    static final int EVERY_WITHOUT_TOTALS = 10;
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
            if (isUp && countersDue) {
                links.add(new NvLinkInfo(link, true,
                        counter(ctx, l, NvLinkErrorCounter.DL_REPLAY, previous == null ? -1 : previous.replay()),
                        counter(ctx, l, NvLinkErrorCounter.DL_RECOVERY, previous == null ? -1 : previous.recovery()),
                        counter(ctx, l, NvLinkErrorCounter.DL_CRC_FLIT, previous == null ? -1 : previous.crcFlit()),
                        counter(ctx, l, NvLinkErrorCounter.DL_CRC_DATA, previous == null ? -1 : previous.crcData())));
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
        boolean known = false;
        for (Reading total : TOTALS) {
            double now = ctx.get(total);
            double before = ctx.previous(total);
            if (Double.isNaN(now) || Double.isNaN(before)) {
                continue;
            }
            known = true;
            if (now != before) {
                return true;
            }
        }
        return !known && ctx.state.reads % EVERY_WITHOUT_TOTALS == 0;
    }

    /** One counter of one link; the kind's previous value while that kind is known unsupported on this GPU. */
    private static long counter(ReadContext ctx, int link, NvLinkErrorCounter which, long previous) {
        GpuState st = ctx.state;
        if (st.reads < st.nvLinkKindRetryAt[which.ordinal()]) {
            return -1;
        }
        Long v = ctx.call("nvmlDeviceGetNvLinkErrorCounter", () -> ctx.device.nvLinkErrorCounter(link, which));
        if (v == null && ctx.lastNotSupported) {
            st.nvLinkKindRetryAt[which.ordinal()] = st.reads + ctx.settings.notSupportedRetry();
            return -1;
        }
        return v == null ? previous : v;
    }
}
