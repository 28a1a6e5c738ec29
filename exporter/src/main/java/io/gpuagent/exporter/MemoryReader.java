package io.gpuagent.exporter;

import io.gpuagent.nvml.MemoryInfo;

/**
 * Frame buffer through {@code nvmlDeviceGetMemoryInfo_v2} (v1 fallback: no reserved), bytes to whole MiB
 * (truncated, as DCGM reports them).
 */
final class MemoryReader implements GpuReader {
    private static final long MIB = 1024L * 1024L;

    @Override
    public void read(ReadContext ctx) {
        if (!ctx.wantsAny(Reading.FB_TOTAL_MIB, Reading.FB_FREE_MIB, Reading.FB_USED_MIB, Reading.FB_RESERVED_MIB)) {
            return;
        }
        MemoryInfo m = ctx.call("nvmlDeviceGetMemoryInfo_v2", ctx.device::memoryInfo, Reading.FB_TOTAL_MIB,
                Reading.FB_FREE_MIB, Reading.FB_USED_MIB, Reading.FB_RESERVED_MIB);
        if (m == null) {
            return;
        }
        ctx.set(Reading.FB_TOTAL_MIB, m.total() / MIB);
        ctx.set(Reading.FB_FREE_MIB, m.free() / MIB);
        ctx.set(Reading.FB_USED_MIB, m.used() / MIB);
        if (m.versioned()) {
            ctx.set(Reading.FB_RESERVED_MIB, m.reserved() / MIB);
        }
    }
}
