package io.gpuagent.nvml.ffm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.nvml.ClockType;
import io.gpuagent.nvml.GpuDevice;
import io.gpuagent.nvml.MemoryInfo;
import io.gpuagent.nvml.Nvml;
import io.gpuagent.nvml.fake.OpenFakeNvml;
import io.gpuagent.nvml.NvmlException;
import io.gpuagent.nvml.NvmlReturn;
import io.gpuagent.nvml.ProcessInfo;
import io.gpuagent.nvml.fake.FakeNvml;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.TestInstance;

/** What each failure the fake can inject looks like through the bindings. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ErrorPathTest {
    private static final long MIB = 1L << 20;

    @RegisterExtension
    static final OpenFakeNvml FAKE = new OpenFakeNvml();

    private final Nvml nvml = FAKE.nvml();

    @Test
    void notSupportedIsACapabilityOnThatGpuOnly() {
        FakeNvml.apply("gpu.1.unsupported.nvmlDeviceGetPowerUsage = 1",
                "gpu.1.unsupported.nvmlDeviceGetEccMode = 1");
        NvmlException e = assertThrows(NvmlException.class, () -> nvml.device(1).powerUsageMw());
        assertTrue(e.notSupported());
        assertEquals(NvmlReturn.NOT_SUPPORTED, e.result());
        assertEquals("nvmlDeviceGetPowerUsage", e.function());
        assertEquals("nvmlDeviceGetEccMode", assertThrows(NvmlException.class, () -> nvml.device(1).eccMode()).function());
        assertEquals(70000, nvml.device(0).powerUsageMw());
    }

    @Test
    void temperatureIsAbsentOnlyWhenBothForNamesAreUnsupported() {
        FakeNvml.apply("gpu.1.unsupported.nvmlDeviceGetTemperatureV = 1", "gpu.1.temp = 50");
        assertEquals(50, nvml.device(1).temperature(), "falls back to nvmlDeviceGetTemperature");
        FakeNvml.apply("gpu.1.unsupported.nvmlDeviceGetTemperatureV = 1",
                "gpu.1.unsupported.nvmlDeviceGetTemperature = 1");
        NvmlException e = assertThrows(NvmlException.class, () -> nvml.device(1).temperature());
        assertTrue(e.notSupported());
        assertEquals("nvmlDeviceGetTemperature", e.function());
    }

    @Test
    void aLostGpuFailsEveryCallWithGpuIsLost() {
        FakeNvml.apply("gpu.4.lost = 1");
        GpuDevice gpu = nvml.device(4);
        for (Runnable call : List.<Runnable>of(gpu::temperature, gpu::memoryInfo, gpu::uuid, gpu::computeProcesses,
                gpu::nvLinkCount, gpu::supportedEventTypes, () -> gpu.clockMhz(ClockType.SM))) {
            NvmlException e = assertThrows(NvmlException.class, call::run);
            assertEquals(NvmlReturn.GPU_IS_LOST, e.result(), e.getMessage());
            assertTrue(e.gpuLost());
        }
        assertEquals(32, nvml.device(3).temperature(), "the other GPUs keep working");
        FakeNvml.reset();
        assertEquals(32, gpu.temperature(), "the same handle answers again once the GPU is back");
    }

    @Test
    void gpusThatDisappearAreLostThroughTheirOldHandles() {
        GpuDevice gpu = nvml.device(6);
        FakeNvml.apply("gpus = 4");
        assertEquals(4, nvml.deviceCount());
        assertEquals(4, nvml.devices().size());
        assertTrue(assertThrows(NvmlException.class, gpu::uuid).gpuLost());
        FakeNvml.reset();
        assertEquals(8, nvml.devices().size());
    }

    @Test
    void memoryV2VersionMismatchFallsBackToV1() {
        FakeNvml.apply("error.nvmlDeviceGetMemoryInfo_v2 = 25", "gpu.2.memory_total_mib = 1000",
                "gpu.2.memory_used_mib = 100", "gpu.2.memory_reserved_mib = 10");
        // v1 has no reserved field: its used includes what the driver reserves.
        assertEquals(new MemoryInfo(1000 * MIB, 0, 890 * MIB, 110 * MIB, false), nvml.device(2).memoryInfo());
        FakeNvml.apply("gpu.2.unsupported.nvmlDeviceGetMemoryInfo_v2 = 1", "gpu.2.memory_total_mib = 1000");
        assertFalse(nvml.device(2).memoryInfo().versioned(), "NOT_SUPPORTED on v2 falls back too");
        FakeNvml.apply("gpu.2.memory_total_mib = 1000");
        assertTrue(nvml.device(2).memoryInfo().versioned());
    }

    @Test
    void otherMemoryV2ErrorsDoNotFallBack() {
        FakeNvml.apply("gpu.2.error.nvmlDeviceGetMemoryInfo_v2 = 15");
        NvmlException e = assertThrows(NvmlException.class, () -> nvml.device(2).memoryInfo());
        assertEquals("nvmlDeviceGetMemoryInfo_v2", e.function());
        assertTrue(e.gpuLost());
    }

    @Test
    void anUnknownReturnCodeIsKept() {
        FakeNvml.apply("error.nvmlDeviceGetPowerUsage = 77");
        NvmlException e = assertThrows(NvmlException.class, () -> nvml.device(0).powerUsageMw());
        assertEquals(77, e.code());
        assertEquals(NvmlReturn.UNRECOGNIZED, e.result());
        assertEquals("nvmlDeviceGetPowerUsage", e.function());
        assertTrue(e.getMessage().contains("77"), e.getMessage());
        assertFalse(e.notSupported() || e.gpuLost());
    }

    @Test
    void aSystemCallErrorIsReportedWithItsName() {
        FakeNvml.apply("error.nvmlDeviceGetCount_v2 = 999");
        NvmlException e = assertThrows(NvmlException.class, nvml::deviceCount);
        assertEquals(NvmlReturn.UNKNOWN, e.result());
        assertEquals("nvmlDeviceGetCount_v2", e.function());
    }

    @Test
    void aProcessListLongerThanTheFirstBufferIsReadWhole() {
        String pids = IntStream.range(0, 100).mapToObj(i -> (1000 + i) + ":" + (i + 1)).collect(Collectors.joining(","));
        FakeNvml.apply("gpu.5.compute_processes = " + pids);
        List<ProcessInfo> processes = nvml.device(5).computeProcesses();
        assertEquals(100, processes.size());
        for (int i = 0; i < 100; i++) {
            assertEquals(new ProcessInfo(1000 + i, (i + 1) * MIB, -1, -1), processes.get(i));
        }
    }

    @Test
    void aProcessListThatGrowsBetweenCallsIsReadWhole() throws Exception {
        // The list flips between 20 and 60 entries while we read it, with each call slowed down so the
        // flip often lands between the sizing call and the retry: every result must be one whole list.
        String small = IntStream.range(0, 20).mapToObj(i -> (2000 + i) + ":1").collect(Collectors.joining(","));
        String large = IntStream.range(0, 60).mapToObj(i -> (2000 + i) + ":1").collect(Collectors.joining(","));
        String latency = "gpu.6.latency_ms.nvmlDeviceGetComputeRunningProcesses_v3 = 30";
        FakeNvml.apply(latency, "gpu.6.compute_processes = " + small);
        AtomicBoolean stop = new AtomicBoolean();
        Thread flipper = Thread.ofPlatform().start(() -> {
            for (int i = 0; !stop.get(); i++) {
                FakeNvml.write(latency, "gpu.6.compute_processes = " + (i % 2 == 0 ? large : small));
                try {
                    Thread.sleep(40);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        Set<Integer> sizes = new java.util.TreeSet<>();
        List<String> wrong = new ArrayList<>();
        try {
            long end = System.nanoTime() + 2_000_000_000L;
            while (System.nanoTime() < end) {
                List<ProcessInfo> list = nvml.device(6).computeProcesses();
                sizes.add(list.size());
                for (int i = 0; i < list.size(); i++) {
                    if (list.get(i).pid() != 2000 + i || list.get(i).usedGpuMemory() != MIB) {
                        wrong.add(list.toString());
                        break;
                    }
                }
            }
        } finally {
            stop.set(true);
            flipper.join();
        }
        assertEquals(List.of(), wrong);
        assertTrue(Set.of(20, 60).containsAll(sizes), "sizes seen: " + sizes);
    }
}
