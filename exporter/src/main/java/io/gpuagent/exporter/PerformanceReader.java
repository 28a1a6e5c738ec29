package io.gpuagent.exporter;

/**
 * Clock event (throttle) reasons, P-state and fan speed (mean over the fans; the fan count is static and
 * SXM boards have none, which makes the reading absent).
 */
final class PerformanceReader implements GpuReader {
    @Override
    public void read(ReadContext ctx) {
        if (ctx.wants(Reading.CLOCK_EVENT_REASONS)) {
            Long bits = ctx.call("nvmlDeviceGetCurrentClocksEventReasons", ctx.device::clockEventReasons,
                    Reading.CLOCK_EVENT_REASONS);
            if (bits != null) {
                ctx.set(Reading.CLOCK_EVENT_REASONS, bits);
            }
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
