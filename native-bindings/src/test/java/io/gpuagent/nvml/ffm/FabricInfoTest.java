package io.gpuagent.nvml.ffm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.nvml.FabricInfo;
import io.gpuagent.nvml.Nvml;
import io.gpuagent.nvml.fake.FakeNvml;
import org.junit.jupiter.api.Test;

/**
 * nvmlDeviceGetGpuFabricInfoV (nvmlGpuFabricInfo_v3_t) on the fake, and the 535 build's fallback to
 * nvmlDeviceGetGpuFabricInfo, which has no health mask or summary.
 */
class FabricInfoTest {

    @Test
    void theVersionedCallReadsStateStatusCliqueAndHealth() {
        FakeNvml.write("gpus = 2");
        try (Nvml nvml = FakeNvml.openWhenReady(FakeNvml.LIBRARY)) {
            FakeNvml.apply("gpus = 2");
            FabricInfo healthy = nvml.device(0).fabricInfo();
            assertEquals(new FabricInfo("00000000-0000-0000-0000-000000000001", 0, 1, FabricInfo.COMPLETED, 2,
                    FabricInfo.SUMMARY_HEALTHY), healthy);
            assertFalse(healthy.degradedBandwidth());
            FakeNvml.apply("gpus = 2", "gpu.1.fabric.state = 3", "gpu.1.fabric.status = 999",
                    "gpu.1.fabric.health_mask = 1", "gpu.1.fabric.health_summary = 3", "gpu.1.fabric.clique_id = 4294967295",
                    "gpu.1.fabric.cluster_uuid = 0123ABCD-4567-89ab-cdef-0123456789ab");
            FabricInfo degraded = nvml.device(1).fabricInfo();
            assertEquals(new FabricInfo("0123abcd-4567-89ab-cdef-0123456789ab", 999, 4294967295L, FabricInfo.COMPLETED, 1,
                    FabricInfo.SUMMARY_LIMITED_CAPACITY), degraded);
            assertTrue(degraded.degradedBandwidth());
            FakeNvml.reset();
        }
    }

    @Test
    void the535DriverFallsBackToTheOldCallWithoutHealth() {
        FakeNvml.write("gpus = 1");
        try (Nvml nvml = FakeNvml.openWhenReady(FakeNvml.LIBRARY_535)) {
            FakeNvml.apply("gpus = 1", "gpu.0.fabric.state = 2");
            assertEquals(new FabricInfo("00000000-0000-0000-0000-000000000001", 0, 1, FabricInfo.IN_PROGRESS, -1, -1),
                    nvml.device(0).fabricInfo());
            FakeNvml.reset();
        }
    }
}
