package io.gpuagent.nvml.ffm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.gpuagent.nvml.Nvml;
import io.gpuagent.nvml.fake.OpenFakeNvml;
import io.gpuagent.nvml.ProcessInfo;
import io.gpuagent.nvml.fake.FakeNvml;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The _v3 process calls have written 16-, 24- and 32-byte entries on different drivers (docs/nvml.md#process-lists). */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ProcessStrideTest {
    private static final long MIB = 1L << 20;

    @RegisterExtension
    static final OpenFakeNvml FAKE = new OpenFakeNvml();

    private final Nvml nvml = FAKE.nvml();

    @ParameterizedTest
    @ValueSource(ints = {16, 24, 32})
    void everyStrideTheDriverWritesIsParsed(int stride) {
        FakeNvml.apply("process_stride = " + stride, "gpu.2.compute_processes = 4242:1024,4343:2048,4444:1",
                "gpu.2.graphics_processes = 77:3");
        assertEquals(List.of(new ProcessInfo(4242, 1024 * MIB, -1, -1), new ProcessInfo(4343, 2048 * MIB, -1, -1),
                new ProcessInfo(4444, MIB, -1, -1)), nvml.device(2).computeProcesses());
        assertEquals(List.of(new ProcessInfo(77, 3 * MIB, -1, -1)), nvml.device(2).graphicsProcesses());
    }

    @ParameterizedTest
    @ValueSource(ints = {16, 24, 32})
    void manyEntriesAtEveryStride(int stride) {
        StringBuilder list = new StringBuilder();
        for (int i = 0; i < 50; i++) {
            list.append(i == 0 ? "" : ",").append(100 + i).append(':').append(i);
        }
        FakeNvml.apply("process_stride = " + stride, "gpu.3.compute_processes = " + list);
        List<ProcessInfo> processes = nvml.device(3).computeProcesses();
        assertEquals(50, processes.size());
        for (int i = 0; i < 50; i++) {
            assertEquals(new ProcessInfo(100 + i, i * MIB, -1, -1), processes.get(i));
        }
    }

    /** Synthetic buffers whose every entry ends in a byte equal to the sentinel. */
    @Test
    void theProbeReadsTheEndOfWhatWasWritten() {
        try (Arena arena = Arena.ofConfined()) {
            for (int stride : new int[] {16, 24, 32}) {
                for (int n = 1; n <= 9; n++) {
                    MemorySegment buffer = arena.allocate(16 * 32L, 8);
                    buffer.fill((byte) 0xAA);
                    for (int i = 0; i < n; i++) {
                        MemorySegment e = buffer.asSlice((long) i * stride, stride);
                        e.fill((byte) 0);
                        e.set(ValueLayout.JAVA_INT, 0, 500 + i);
                        e.set(ValueLayout.JAVA_LONG, 8, 4096L);
                        if (stride >= 24) {
                            e.set(ValueLayout.JAVA_INT, 16, 1);
                            e.set(ValueLayout.JAVA_INT, 20, 2);
                        }
                        e.set(ValueLayout.JAVA_BYTE, stride - 1, (byte) 0xAA);
                    }
                    assertEquals(stride, ProcessList.stride(buffer, n), "stride " + stride + ", " + n + " entries");
                    ProcessInfo last = ProcessList.parse(buffer, n).get(n - 1);
                    assertEquals(500 + n - 1, last.pid());
                    assertEquals(stride >= 24 ? 1 : -1, last.gpuInstanceId());
                }
            }
        }
    }

    @Test
    void aDriverThatClearsTheWholeBufferStillReadsRight() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(16 * 32L, 8);
            buffer.fill((byte) 0xAA);
            buffer.asSlice(0, 16 * 24L).fill((byte) 0);   // zeroed capacity x 24 bytes, then wrote 2 entries
            buffer.set(ValueLayout.JAVA_INT, 0, 1);
            buffer.set(ValueLayout.JAVA_INT, 24, 2);
            assertEquals(24, ProcessList.stride(buffer, 2));
        }
    }
}
