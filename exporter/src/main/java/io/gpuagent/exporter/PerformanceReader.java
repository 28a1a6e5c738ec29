package io.gpuagent.exporter;

/**
 * Clock event (throttle) reasons and the times each began, P-state and fan speed (mean over the fans; the
 * fan count is static and SXM boards have none, which makes the reading absent), and persistence mode.
 */
final class PerformanceReader implements GpuReader {
    @Override
    public void read(ReadContext ctx) {
        Long bits = null;
        if (ctx.wants(Reading.CLOCK_EVENT_REASONS)) {
            bits = ctx.call("nvmlDeviceGetCurrentClocksEventReasons", ctx.device::clockEventReasons,
                    Reading.CLOCK_EVENT_REASONS);
            if (bits != null) {
                ctx.set(Reading.CLOCK_EVENT_REASONS, bits);
            }
        }
        if (wantsClockEventTotals(ctx)) {
            countClockEvents(ctx, bits);
        }
        if (ctx.wants(Reading.PSTATE)) {
            Integer p = ctx.call("nvmlDeviceGetPerformanceState", ctx.device::performanceState, Reading.PSTATE);
            if (p != null && p != 32) {
                ctx.set(Reading.PSTATE, p);
            }
        }
        if (ctx.wants(Reading.FAN_SPEED_PCT)) {
            fans(ctx);
        }
        if (ctx.wants(Reading.PERSISTENCE_MODE)) {
            Boolean on = ctx.call("nvmlDeviceGetPersistenceMode", ctx.device::persistenceMode, Reading.PERSISTENCE_MODE);
            if (on != null) {
                ctx.set(Reading.PERSISTENCE_MODE, on ? 1 : 0);
            }
        }
    }

    private static boolean wantsClockEventTotals(ReadContext ctx) {
        for (ClockEvent e : ClockEvent.all()) {
            if (ctx.requested(e.total())) {
                return true;
            }
        }
        return false;
    }

    /**
     * dcgm-exporter's DCGM_EXP_CLOCK_EVENTS_TOTAL semantics: a reason counts when its bit goes from clear to set
     * between two reads that had the reasons; the first such read only sets the baseline (a reason already
     * active then did not begin under our eyes). A read without the reasons (failed, or backed off after
     * NOT_SUPPORTED) keeps both baseline and totals; the totals are served on as they are.
     */
    private static void countClockEvents(ReadContext ctx, Long bits) {
        GpuState st = ctx.state;
        if (bits != null) {
            if (st.clockEventTotals == null) {
                st.clockEventTotals = new long[ClockEvent.all().size()];
            } else {
                long began = bits & ~st.clockEventReasonsSeen;
                for (ClockEvent e : ClockEvent.all()) {
                    if ((began & e.bit()) != 0) {
                        st.clockEventTotals[e.ordinal()]++;
                    }
                }
            }
            st.clockEventReasonsSeen = bits;
        }
        if (st.clockEventTotals != null) {
            for (ClockEvent e : ClockEvent.all()) {
                ctx.set(e.total(), st.clockEventTotals[e.ordinal()]);
            }
        }
    }

    private static void fans(ReadContext ctx) {
        if (ctx.state.fanCount < 0 || ctx.staticDue) {
            Integer n = ctx.call("nvmlDeviceGetNumFans", ctx.device::fanCount, Reading.FAN_SPEED_PCT);
            if (n == null) {
                return;
            }
            ctx.state.fanCount = n;
        }
        if (ctx.state.fanCount == 0) {
            ctx.unsupported(Reading.FAN_SPEED_PCT);
            return;
        }
        double sum = 0;
        for (int fan = 0; fan < ctx.state.fanCount; fan++) {
            int f = fan;
            Integer pct = ctx.call("nvmlDeviceGetFanSpeed_v2", () -> ctx.device.fanSpeedPercent(f), Reading.FAN_SPEED_PCT);
            if (pct == null) {
                return;
            }
            sum += pct;
        }
        ctx.set(Reading.FAN_SPEED_PCT, sum / ctx.state.fanCount);
    }
}
