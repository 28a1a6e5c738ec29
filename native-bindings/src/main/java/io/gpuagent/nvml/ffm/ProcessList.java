package io.gpuagent.nvml.ffm;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import io.gpuagent.nvml.ProcessInfo;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;

/**
 * The running-process lists ({@code nvmlDevice*RunningProcesses_v3}): the count protocol, and the stride
 * probe of docs/nvml.md#process-lists. Drivers have written 16-, 24- and 32-byte entries from the same
 * symbol. The buffer is sized for the largest stride (so no driver can overrun it) and filled with a
 * sentinel; the end of what the driver wrote, divided by the count, tells the stride.
 */
final class ProcessList {

    /** Fill byte for the stride probe: entries the driver writes never end in it. */
    private static final byte SENTINEL = (byte) 0xAA;
    private static final int[] STRIDES = {16, 24, 32};
    private static final int MAX_STRIDE = 32;

    private ProcessList() {
    }

    static List<ProcessInfo> read(DeviceCalls calls, String function, MethodHandle h, MemorySegment device) {
        return calls.list(function, (arena, capacity) -> {
            MemorySegment infos = arena.allocate((long) capacity * MAX_STRIDE, 8);
            infos.fill(SENTINEL);
            return infos;
        }, (count, infos) -> (int) h.invokeExact(device, count, infos), ProcessList::parse);
    }

    static List<ProcessInfo> parse(MemorySegment infos, int n) {
        if (n <= 0) {
            return List.of();
        }
        int stride = stride(infos, n);
        boolean instanceIds = stride >= Layouts.PROCESS_INFO.byteSize();
        List<ProcessInfo> list = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            list.add(Structs.process(infos.asSlice((long) i * stride, stride), instanceIds));
        }
        return List.copyOf(list);
    }

    /**
     * The smallest known stride whose {@code n} entries cover every byte the driver changed. A written
     * byte that happens to equal the sentinel can only shorten the changed span by a few bytes, never by
     * the 8n bytes that separate two candidate strides. A driver that cleared the whole buffer it was
     * given ({@code capacity} entries of its own size) is recognised by that span instead.
     */
    static int stride(MemorySegment infos, int n) {
        long end = infos.byteSize();
        while (end > 0 && infos.get(JAVA_BYTE, end - 1) == SENTINEL) {
            end--;
        }
        if (end > (long) n * MAX_STRIDE) {
            long capacity = infos.byteSize() / MAX_STRIDE;
            for (int stride : STRIDES) {
                if (end == capacity * stride) {
                    return stride;
                }
            }
            return (int) Layouts.PROCESS_INFO.byteSize();
        }
        for (int stride : STRIDES) {
            if ((long) stride * n >= end) {
                return stride;
            }
        }
        return MAX_STRIDE;
    }
}
