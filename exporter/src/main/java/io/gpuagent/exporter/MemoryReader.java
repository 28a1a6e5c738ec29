package io.gpuagent.exporter;

import io.gpuagent.nvml.MemoryInfo;
import java.util.function.ObjDoubleConsumer;

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
        if (m != null) {
            fill(m, ctx::set);
        }
    }

    /** The frame buffer readings of {@code m} in whole MiB: a GPU's, or a MIG device's GPU instance's (MigReader). */
    static void fill(MemoryInfo m, ObjDoubleConsumer<Reading> set) {
        set.accept(Reading.FB_TOTAL_MIB, m.total() / MIB);
        set.accept(Reading.FB_FREE_MIB, m.free() / MIB);
        set.accept(Reading.FB_USED_MIB, m.used() / MIB);
        if (m.versioned()) {
            set.accept(Reading.FB_RESERVED_MIB, m.reserved() / MIB);
        }
    }
}
