package io.gpuagent.nvml.ffm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.nvml.EventSet;
import io.gpuagent.nvml.GpuDevice;
import io.gpuagent.nvml.Nvml;
import io.gpuagent.nvml.fake.OpenFakeNvml;
import io.gpuagent.nvml.NvmlException;
import io.gpuagent.nvml.NvmlReturn;
import io.gpuagent.nvml.PciInfo;
import io.gpuagent.nvml.fake.FakeNvml;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.TestInstance;

/** Nvml-level calls, opening and closing, and the errors of each. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NvmlLifecycleTest {

    @RegisterExtension
    static final OpenFakeNvml FAKE = new OpenFakeNvml();

    private Nvml nvml = FAKE.nvml();

    @Test
    void systemReadings() {
        assertEquals("570.133.20", nvml.driverVersion(), "the fake's default");
        FakeNvml.apply("driver_version = 535.261.03", "nvml_version = 12.535.261.03", "cuda_version = 12020",
                "gpus = 4");
        assertEquals("535.261.03", nvml.driverVersion());
        assertEquals("12.535.261.03", nvml.nvmlVersion());
        assertEquals(12020, nvml.cudaDriverVersion());
        assertEquals(4, nvml.deviceCount());
        assertEquals(4, nvml.devices().size());
    }

    @Test
    void defaults() {
        assertEquals("12.570.133.20", nvml.nvmlVersion());
        assertEquals(12080, nvml.cudaDriverVersion());
        assertEquals(8, nvml.deviceCount());
    }

    @Test
    void errorStringsComeFromTheDriver() {
        assertFalse(nvml.errorString(NvmlReturn.GPU_IS_LOST.code()).isBlank());
        assertNotEquals(nvml.errorString(0), nvml.errorString(15));
        assertFalse(nvml.errorString(77).isBlank(), "an unknown code still has a text");
    }

    @Test
    void devicesSkipsGpusThisProcessMayNotOpen() {
        FakeNvml.apply("gpu.2.no_permission = 1", "gpu.5.no_permission = 1");
        // A fresh Nvml: the shared one may already hold handles to GPUs 2 and 5.
        try (Nvml fresh = FakeNvml.open()) {
            assertEquals(8, fresh.deviceCount(), "the count includes GPUs we may not open");
            List<GpuDevice> devices = fresh.devices();
            assertEquals(List.of(0, 1, 3, 4, 6, 7), devices.stream().map(GpuDevice::index).toList());
            NvmlException e = assertThrows(NvmlException.class, () -> fresh.device(2));
            assertTrue(e.noPermission());
            assertEquals("nvmlDeviceGetHandleByIndex_v2", e.function());
        }
    }

    @Test
    void lookupsOfUnknownDevicesFail() {
        NvmlException byIndex = assertThrows(NvmlException.class, () -> nvml.device(8));
        assertEquals(NvmlReturn.INVALID_ARGUMENT, byIndex.result());
        NvmlException byUuid = assertThrows(NvmlException.class, () -> nvml.deviceByUuid("GPU-00000000-0000-0000-0000-000000000000"));
        assertEquals("nvmlDeviceGetHandleByUUID", byUuid.function());
        assertThrows(NvmlException.class, () -> nvml.deviceByPciBusId("00000000:01:00.0"));
    }

    @Test
    void aDeviceFoundByUuidFirstIsCachedUnderItsIndex() {
        try (Nvml fresh = FakeNvml.open()) {
            String uuid = nvml.device(6).uuid();
            GpuDevice byUuid = fresh.deviceByUuid(uuid);
            assertEquals(6, byUuid.index());
            assertSame(byUuid, fresh.device(6));
            assertSame(byUuid, fresh.deviceByPciBusId(byUuid.pciInfo().busId()));
        }
    }

    @Test
    void drainingNeedsPersistenceModeOff() {
        PciInfo pci = nvml.device(6).pciInfo();
        assertFalse(nvml.drainState(pci));
        NvmlException inUse = assertThrows(NvmlException.class, () -> nvml.modifyDrainState(pci, true));
        assertEquals(NvmlReturn.IN_USE, inUse.result());
        assertEquals("nvmlDeviceModifyDrainState", inUse.function());
        FakeNvml.apply("gpu.6.persistence_mode = 0");
        try {
            nvml.modifyDrainState(pci, true);
            assertTrue(nvml.drainState(pci));
            assertFalse(nvml.drainState(nvml.device(5).pciInfo()), "only that GPU drains");
        } finally {
            nvml.modifyDrainState(pci, false);
        }
        assertFalse(nvml.drainState(pci));
    }

    @Test
    void aRemovedGpuIsGoneAndItsHandleLost() {
        GpuDevice gpu = nvml.device(7);
        FakeNvml.apply("gpu.7.persistence_mode = 0");
        nvml.removeGpu(gpu.pciInfo());
        try {
            assertEquals(7, nvml.deviceCount());
            assertTrue(assertThrows(NvmlException.class, gpu::temperature).gpuLost());
            assertEquals(NvmlReturn.INVALID_ARGUMENT, assertThrows(NvmlException.class, () -> nvml.device(7)).result());
            assertEquals(7, nvml.devices().size());
        } finally {
            // The fake brings removed GPUs back when the GPU count changes.
            FakeNvml.apply("gpus = 9");
            FakeNvml.reset();
        }
        assertEquals(8, nvml.deviceCount());
        assertEquals(gpu.uuid(), nvml.device(7).uuid());
    }

    @Test
    void devicesLeavesOutASickGpuInsteadOfFailing() {
        for (int code : new int[] {NvmlReturn.GPU_IS_LOST.code(), NvmlReturn.UNKNOWN.code(),
                NvmlReturn.INSUFFICIENT_POWER.code()}) {
            FakeNvml.apply("gpu.3.error.nvmlDeviceGetHandleByIndex_v2 = " + code);
            try (Nvml own = FakeNvml.open()) {   // a fresh instance: nothing cached
                List<GpuDevice> devices = own.devices();
                assertEquals(7, devices.size(), "with GPU 3 answering " + code);
                assertTrue(devices.stream().noneMatch(d -> d.index() == 3));
            }
        }
    }

    @Test
    void closeWaitsForCallsInFlight() throws Exception {
        FakeNvml.apply("gpu.1.latency_ms.nvmlDeviceGetPowerUsage = 400");
        Nvml own = FakeNvml.open();
        GpuDevice gpu = own.device(1);
        java.util.concurrent.CompletableFuture<Long> call = java.util.concurrent.CompletableFuture.supplyAsync(
                gpu::powerUsageMw, java.util.concurrent.Executors.newSingleThreadExecutor());
        Thread.sleep(100);   // the call is inside the driver now
        long t0 = System.nanoTime();
        own.close();
        assertTrue(System.nanoTime() - t0 > 150_000_000L, "close returned before the call in flight");
        assertTrue(call.get() > 0, "the call in flight finished normally");
        assertEquals(NvmlReturn.UNINITIALIZED, assertThrows(NvmlException.class, gpu::powerUsageMw).result());
    }

    @Test
    void freesAfterCloseAreNoOps() {
        Nvml own = FakeNvml.open();
        EventSet set = own.createEventSet();
        var sample = own.device(0).gpmSample();
        own.close();
        set.close();      // the last nvmlShutdown freed both: calling the library now would be a use after free
        sample.close();
    }

    @Test
    void nvmlCallsAreRefusedOnVirtualThreads() throws Exception {
        Throwable[] thrown = new Throwable[1];
        Thread.ofVirtual().start(() -> {
            try {
                nvml.device(0).temperature();
            } catch (Throwable t) {
                thrown[0] = t;
            }
        }).join();
        assertTrue(thrown[0] instanceof IllegalStateException, String.valueOf(thrown[0]));
        assertTrue(thrown[0].getMessage().contains("platform threads"), thrown[0].getMessage());
    }

    @Test
    void closeIsIdempotentAndLaterCallsAreUninitialized() {
        Nvml own = FakeNvml.open();
        GpuDevice gpu = own.device(0);
        EventSet set = own.createEventSet();
        set.close();
        own.close();
        own.close();
        NvmlException e = assertThrows(NvmlException.class, gpu::temperature);
        assertEquals(NvmlReturn.UNINITIALIZED, e.result());
        assertEquals(NvmlReturn.UNINITIALIZED, assertThrows(NvmlException.class, own::deviceCount).result());
        assertEquals(NvmlReturn.UNINITIALIZED, assertThrows(NvmlException.class, () -> own.device(0)).result());
        assertEquals(NvmlReturn.UNINITIALIZED, assertThrows(NvmlException.class, gpu::memoryInfo).result());
        // The shared instance holds its own reference: it keeps working.
        assertEquals(8, nvml.deviceCount());
    }

    @Test
    void theDriverItselfIsUninitializedOnceTheLastReferenceIsGone() throws Throwable {
        // Call a raw handle after shutdown: the library, not our closed flag, must answer UNINITIALIZED.
        Functions fn = new Functions(NvmlLibrary.open(FakeNvml.LIBRARY.toString()));
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            var count = arena.allocate(java.lang.foreign.ValueLayout.JAVA_INT);
            nvml.close();
            try {
                assertEquals(NvmlReturn.UNINITIALIZED.code(), (int) fn.system.nvmlDeviceGetCount_v2.invokeExact(count));
            } finally {
                nvml = FAKE.reopen();
            }
        }
    }

    @Test
    void aMissingLibraryIsLibraryNotFoundWithTheFix() {
        String missing = Path.of("target/no-such-dir/libnvidia-ml.so.1").toAbsolutePath().toString();
        NvmlException e = assertThrows(NvmlException.class, () -> Nvml.open(missing));
        assertEquals(NvmlReturn.LIBRARY_NOT_FOUND, e.result());
        assertEquals("dlopen", e.function());
        assertTrue(e.driverMissing());
        assertTrue(e.getMessage().contains(missing), e.getMessage());
        assertTrue(e.getMessage().contains("gpu-agent.nvml.library"), e.getMessage());
        NvmlException bySoname = assertThrows(NvmlException.class, () -> Nvml.open("libnvidia-ml-does-not-exist.so.1"));
        assertEquals(NvmlReturn.LIBRARY_NOT_FOUND, bySoname.result());
    }

    @Test
    void aFailedInitIsTypedAndLeavesNothingOpen() {
        FakeNvml.apply("init_error = 9");
        NvmlException e = assertThrows(NvmlException.class, FakeNvml::open);
        assertEquals(NvmlReturn.DRIVER_NOT_LOADED, e.result());
        assertEquals("nvmlInit_v2", e.function());
        assertTrue(e.driverMissing());
        FakeNvml.apply("init_error = 18");
        NvmlException mismatch = assertThrows(NvmlException.class, FakeNvml::open);
        assertEquals(NvmlReturn.LIB_RM_VERSION_MISMATCH, mismatch.result());
        assertTrue(mismatch.gpuLost());
        FakeNvml.reset();
        try (Nvml again = FakeNvml.open()) {
            assertEquals(8, again.deviceCount());
        }
    }
}
