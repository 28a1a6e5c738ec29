package io.gpuagent.nvml.ffm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.nvml.ClockType;
import io.gpuagent.nvml.FieldIds;
import io.gpuagent.nvml.FieldRequest;
import io.gpuagent.nvml.GpuDevice;
import io.gpuagent.nvml.Nvml;
import io.gpuagent.nvml.fake.FakeNvml;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Many threads read at once: every call has its own arena, and every answer is the right one. */
class ConcurrencyTest {
    private static final int THREADS = 16;
    private static final long RUN_NANOS = 3_000_000_000L;

    @Test
    void sixteenThreadsHammeringReadsGetConsistentAnswers() throws Exception {
        FakeNvml.write();
        try (Nvml nvml = FakeNvml.open()) {
            String[] lines = IntStream.range(0, 8).boxed().flatMap(i -> List.of(
                    "gpu." + i + ".temp = " + (40 + i),
                    "gpu." + i + ".memory_used_mib = " + (1000 * i),
                    "gpu." + i + ".compute_processes = " + (100 + i) + ":" + (i + 1) + "," + (200 + i) + ":1",
                    "gpu." + i + ".mem_temp = " + (30 + i)).stream()).toArray(String[]::new);
            FakeNvml.apply(lines);
            List<GpuDevice> gpus = nvml.devices();
            Map<Integer, String> uuids = gpus.stream().collect(Collectors.toMap(GpuDevice::index, GpuDevice::uuid));
            Map<String, Throwable> failures = new ConcurrentHashMap<>();
            AtomicLong calls = new AtomicLong();
            CountDownLatch start = new CountDownLatch(1);
            List<Thread> threads = IntStream.range(0, THREADS).mapToObj(t -> Thread.ofPlatform().start(() -> {
                try {
                    start.await();
                    long end = System.nanoTime() + RUN_NANOS;
                    for (int round = 0; System.nanoTime() < end; round++) {
                        int i = (t + round) % gpus.size();
                        GpuDevice gpu = nvml.device(i);
                        check(40 + i, gpu.temperature(), "temperature", i);
                        check(1000L * i << 20, gpu.memoryInfo().used(), "memory used", i);
                        check(uuids.get(i), gpu.uuid(), "uuid", i);
                        check(List.of(100 + i, 200 + i), gpu.computeProcesses().stream().map(p -> p.pid()).toList(), "pids", i);
                        check(30L + i, gpu.fieldValues(List.of(FieldRequest.of(FieldIds.MEMORY_TEMP))).getFirst().asLong(),
                                "field 82", i);
                        check(345, gpu.clockMhz(ClockType.SM), "sm clock", i);
                        calls.addAndGet(6);
                    }
                } catch (Throwable e) {
                    failures.put(Thread.currentThread().getName(), e);
                }
            })).toList();
            start.countDown();
            for (Thread thread : threads) {
                thread.join();
            }
            assertEquals(Map.of(), failures);
            assertTrue(calls.get() > THREADS * 6L, "calls made: " + calls.get());
            FakeNvml.reset();
        }
    }

    private static void check(Object expected, Object actual, String what, int gpu) {
        if (!expected.equals(actual)) {
            throw new AssertionError("GPU " + gpu + " " + what + ": expected " + expected + " but read " + actual);
        }
    }
}
