package io.gpuagent.exporter;

import io.gpuagent.nvml.ClockType;

/** Current and max clocks: {@code nvmlDeviceGetClockInfo}, {@code nvmlDeviceGetMaxClockInfo} (static). */
final class ClockReader implements GpuReader {
    @Override
    public void read(ReadContext ctx) {
        clock(ctx, Reading.SM_CLOCK_MHZ, ClockType.SM);
        clock(ctx, Reading.MEM_CLOCK_MHZ, ClockType.MEM);
        clock(ctx, Reading.GRAPHICS_CLOCK_MHZ, ClockType.GRAPHICS);
        clock(ctx, Reading.VIDEO_CLOCK_MHZ, ClockType.VIDEO);
        maxClock(ctx, Reading.MAX_SM_CLOCK_MHZ, ClockType.SM);
        maxClock(ctx, Reading.MAX_MEM_CLOCK_MHZ, ClockType.MEM);
    }

    private static void clock(ReadContext ctx, Reading r, ClockType type) {
        if (ctx.wants(r)) {
            Integer mhz = ctx.call("nvmlDeviceGetClockInfo", () -> ctx.device.clockMhz(type), r);
            if (mhz != null) {
                ctx.set(r, mhz);
            }
        }
    }

    private static void maxClock(ReadContext ctx, Reading r, ClockType type) {
        if (ctx.wants(r)) {
            Integer mhz = ctx.call("nvmlDeviceGetMaxClockInfo", () -> ctx.device.maxClockMhz(type), r);
            if (mhz != null) {
                ctx.set(r, mhz);
            }
        }
    }
}
