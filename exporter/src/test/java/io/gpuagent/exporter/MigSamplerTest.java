package io.gpuagent.exporter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.nvml.fake.FakeNvml;
import io.gpuagent.nvml.fake.Machines;
import io.gpuagent.nvml.fake.Scenario;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** MigReader through the real bindings against the fake driver's MIG topology (Machines.h100Mig()). */
class MigSamplerTest {
    private static final double MIB = 1;

    @BeforeAll
    static void openTheFake() {
        FakeNvml.shared();
    }

    private Sampler sampler;

    private Sampler sampler() {
        SamplerSettings s = new SamplerSettings(Duration.ofSeconds(1), Duration.ofSeconds(2), Set.of(), "testhost");
        sampler = new Sampler(NvmlSource.of(FakeNvml.shared()), s, new SimpleMeterRegistry(), Clock.systemUTC());
        return sampler;
    }

    @AfterEach
    void tearDown() {
        if (sampler != null) {
            sampler.close();
        }
        FakeNvml.apply(FakeDriverSamplerTest.baseScenario());
    }

    private Snapshot twoSweeps(Sampler s) throws InterruptedException {
        s.sweepNow();
        Thread.sleep(150);
        return s.sweepNow();
    }

    @Test
    void everyMigDeviceIsReadWithItsProfileMemoryProcessesAndActivity() throws Exception {
        FakeNvml.apply(Machines.h100Mig());
        Snapshot snap = twoSweeps(sampler());
        GpuSample gpu0 = snap.gpu(0).orElseThrow();
        assertTrue(gpu0.migEnabled());
        assertEquals(1, gpu0.raw(Reading.MIG_MODE));
        List<MigSample> devices = gpu0.migDevices();
        assertEquals(List.of("3g.40gb", "1g.10gb", "1g.10gb", "1g.10gb"),
                devices.stream().map(m -> m.info().profile()).toList(), "GPU instance order, profiles");
        assertEquals(List.of(2, 7, 8, 9), devices.stream().map(m -> m.info().gpuInstanceId()).toList());
        assertEquals(List.of("0/2", "0/7", "0/8", "0/9"), devices.stream().map(m -> m.info().address()).toList());
        for (MigSample m : devices) {
            assertTrue(m.uuid().startsWith("MIG-"), m.uuid());
            assertEquals(gpu0.uuid(), m.info().parentUuid());
            assertTrue(m.info().multiprocessors() > 0, "SMs from the attributes");
        }
        MigSample big = devices.get(0);
        assertEquals(3, big.info().slices());
        assertEquals(18432 * MIB, big.raw(Reading.FB_USED_MIB));
        assertTrue(big.raw(Reading.FB_TOTAL_MIB) > 39_000 && big.raw(Reading.FB_TOTAL_MIB) < 41_000,
                "a 3g.40gb instance holds about 40 GB: " + big.raw(Reading.FB_TOTAL_MIB));
        assertEquals(List.of(4100), big.processes().stream().map(p -> p.pid()).toList());
        assertEquals(0.625, big.raw(Reading.GR_ENGINE_ACTIVE), 1e-9, "GPM per GPU instance, percent to ratio");
        assertEquals(0.12, devices.get(1).raw(Reading.GR_ENGINE_ACTIVE), 1e-9);
        assertEquals(4096 * MIB, devices.get(1).raw(Reading.FB_USED_MIB));
        assertTrue(gpu0.processes().stream().anyMatch(p -> p.pid() == 4100)
                && gpu0.processes().stream().anyMatch(p -> p.pid() == 4101), "the GPU lists its instances' processes");
        assertFalse(gpu0.has(Reading.GPU_UTIL_PCT), "utilization is NOT_SUPPORTED in MIG mode");
        assertTrue(gpu0.has(Reading.GPU_TEMP_C), "the parent keeps its physical readings");
        assertEquals(8, snap.gpus().stream().filter(g -> g.migDevices().size() == 4).count(), "8 GPUs x 4 instances");
    }

    @Test
    void aPendingModeChangeAndAReconfigurationShowWithinOneSweep() throws Exception {
        FakeNvml.apply(Machines.h100Mig());
        Sampler s = sampler();
        Snapshot before = twoSweeps(s);
        String oldUuid = before.gpu(0).orElseThrow().migDevices().get(1).uuid();

        // GPU instance 7 destroyed and created again as another device: same id, a new UUID; MIG mode off pending.
        FakeNvml.apply(Machines.h100Mig().migMode(0, true, false).migUuid(0, 7,
                "MIG-0f0e0d0c-0b0a-5908-0706-050403020100"));
        Snapshot after = twoSweeps(s);
        GpuSample gpu0 = after.gpu(0).orElseThrow();
        assertEquals(1, gpu0.raw(Reading.MIG_MODE));
        assertEquals(0, gpu0.raw(Reading.MIG_MODE_PENDING), "a change waiting for a reset is visible");
        MigSample reborn = gpu0.migDevices().get(1);
        assertEquals(7, reborn.info().gpuInstanceId());
        assertNotEquals(oldUuid, reborn.uuid());
        assertEquals("MIG-0f0e0d0c-0b0a-5908-0706-050403020100", reborn.uuid());
        assertEquals(0.12, reborn.raw(Reading.GR_ENGINE_ACTIVE), 1e-9,
                "its GPM interval starts afresh under the new UUID and has a value after two sweeps");
    }

    @Test
    void aGpuLeavingMigModeHasNoDevicesAndAGpuWithoutMigNone() throws Exception {
        FakeNvml.apply(Machines.h100Mig().migMode(3, false, false));
        Snapshot snap = twoSweeps(sampler());
        GpuSample gpu3 = snap.gpu(3).orElseThrow();
        assertFalse(gpu3.migEnabled());
        assertEquals(0, gpu3.raw(Reading.MIG_MODE));
        assertTrue(gpu3.migDevices().isEmpty());
        FakeNvml.apply(Scenario.gpus(2).all("name", "NVIDIA L40S"));
        Snapshot plain = twoSweeps(sampler);
        assertFalse(plain.gpu(0).orElseThrow().has(Reading.MIG_MODE), "no MIG on this GPU: absent, not 0");
        assertTrue(plain.gpu(0).orElseThrow().migDevices().isEmpty());
    }
}
