package io.gpuagent.exporter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.nvml.Nvml;
import io.gpuagent.nvml.fake.FakeNvml;
import io.gpuagent.nvml.fake.Scenario;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * How the sampler uses NVML where a real driver refuses part of it: an NVLink counter kind it does not
 * serve, NVLink totals it lacks, GPM counters another profiler holds, power-limit fields it does not know,
 * and NVML released on purpose for a GPU reset. Against the C fake through the real bindings.
 */
class SamplerNvmlUseTest {
    /** Before any scenario is applied: the fake watches its scenario file only while NVML is open. */
    @BeforeAll
    static void openTheFake() {
        FakeNvml.shared();
    }


    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private Sampler sampler;

    private Sampler sampler(NvmlSource source) {
        sampler = new Sampler(source, new SamplerSettings(Duration.ofSeconds(1), Duration.ofMillis(800), Set.of(),
                "testhost"), registry, Clock.systemUTC());
        return sampler;
    }

    @AfterEach
    void tearDown() {
        if (sampler != null) {
            sampler.close();
        }
        FakeNvml.apply(FakeDriverSamplerTest.baseScenario());
    }

    @Test
    void oneUnsupportedNvLinkCounterKindStopsOnlyThatKindOnEveryLink() {
        // bit 1: DL_RECOVERY answers NOT_SUPPORTED; the other kinds must still be read on links 1..17.
        FakeNvml.apply(FakeDriverSamplerTest.baseScenario().line("""
                gpu.0.nvlink_unsupported_counters = 2
                gpu.0.nvlink.4.crc_flit = 5
                gpu.0.nvlink.4.replay = 3
                gpu.0.nvlink.9.crc_data = 2
                """));
        Snapshot snap = sampler(NvmlSource.of(FakeNvml.shared())).sweepNow();
        GpuSample g = snap.gpu(0).orElseThrow();
        assertEquals(18, g.nvLinks().size());
        assertEquals(5, g.nvLinks().get(4).crcFlit());
        assertEquals(3, g.nvLinks().get(4).replay());
        assertEquals(2, g.nvLinks().get(9).crcData());
        assertEquals(0, g.nvLinks().get(17).crcFlit());
        assertTrue(g.nvLinks().stream().allMatch(l -> l.recovery() == -1), "the unsupported kind is absent");
        assertTrue(registry.find(AgentMeters.NVML_ERRORS).tag("code", "NOT_SUPPORTED").counters().isEmpty());
    }

    @Test
    void withoutNvLinkTotalsTheLinkCountersAreNotReadEverySweep() {
        Scenario noTotals = FakeDriverSamplerTest.baseScenario().unsupportedField(0, 38).unsupportedField(0, 45)
                .unsupportedField(0, 52).unsupportedField(0, 59);
        FakeNvml.apply(noTotals.and().gpu(0, "nvlink.2.crc_flit", 1));
        Sampler s = sampler(NvmlSource.of(FakeNvml.shared()));
        assertEquals(1, s.sweepNow().gpu(0).orElseThrow().nvLinks().get(2).crcFlit());
        assertFalse(s.latest().gpu(0).orElseThrow().has(Reading.NVLINK_CRC_FLIT_ERRORS));
        FakeNvml.apply(noTotals.and().gpu(0, "nvlink.2.crc_flit", 7));
        for (int read = 1; read < NvLinkReader.EVERY_WITHOUT_TOTALS; read++) {
            assertEquals(1, s.sweepNow().gpu(0).orElseThrow().nvLinks().get(2).crcFlit(),
                    "read " + read + ": 72 calls per sweep when no total is known");
        }
        assertEquals(7, s.sweepNow().gpu(0).orElseThrow().nvLinks().get(2).crcFlit(), "re-read on its cadence");
    }

    @Test
    void gpmHeldByAnotherProfilerPausesWithoutErrorsAndResumes() throws Exception {
        FakeNvml.apply(FakeDriverSamplerTest.baseScenario().error(0, "nvmlGpmSampleGet", 19));
        Sampler s = sampler(NvmlSource.of(FakeNvml.shared()));
        s.sweepNow();
        Thread.sleep(150);
        GpuSample paused = s.sweepNow().gpu(0).orElseThrow();
        assertFalse(paused.has(Reading.SM_ACTIVE));
        assertTrue(paused.notes().getFirst().contains("GPM paused"), paused.notes().toString());
        assertTrue(s.latest().gpu(1).orElseThrow().has(Reading.SM_ACTIVE), "other GPUs unaffected");
        assertTrue(registry.find(AgentMeters.NVML_ERRORS).tag("code", "IN_USE").counters().isEmpty(), "not an error");

        FakeNvml.apply(FakeDriverSamplerTest.baseScenario());
        GpuSample resumed = null;
        for (int i = 0; i <= GpmReader.IN_USE_RETRY + 2 && (resumed == null || !resumed.has(Reading.SM_ACTIVE)); i++) {
            Thread.sleep(110);   // GPM needs 100 ms between samples
            resumed = s.sweepNow().gpu(0).orElseThrow();
        }
        assertTrue(resumed.has(Reading.SM_ACTIVE), "GPM resumes once the counters are free");
        assertTrue(resumed.notes().isEmpty(), resumed.notes().toString());
    }

    @Test
    void powerLimitsComeFromCallsWhereTheFieldsAreUnsupported() {
        FakeNvml.apply(FakeDriverSamplerTest.baseScenario().line("""
                gpu.0.unsupported_field.189 = 1
                gpu.0.unsupported_field.190 = 1
                gpu.0.power_limit_mw = 650000
                """));
        Sampler s = sampler(NvmlSource.of(FakeNvml.shared()));
        for (int i = 0; i < 3; i++) {
            GpuSample g = s.sweepNow().gpu(0).orElseThrow();
            assertEquals(650, g.valueOr(Reading.POWER_LIMIT_W, -1), "sweep " + i);
            assertEquals(700, g.valueOr(Reading.POWER_DEFAULT_LIMIT_W, -1), "sweep " + i);
        }
    }

    @Test
    void whileNvmlIsReleasedTheLastReadingsAreServedStaleThenFreshAfter() {
        FakeNvml.apply(FakeDriverSamplerTest.baseScenario());
        Nvml[] current = {FakeNvml.shared()};
        String[] released = {null};
        NvmlSource source = new NvmlSource() {
            @Override
            public Optional<Nvml> current() {
                return Optional.ofNullable(current[0]);
            }

            @Override
            public String releasedReason() {
                return released[0];
            }
        };
        Sampler s = sampler(source);
        Snapshot before = s.sweepNow();
        assertEquals(8, before.gpus(GpuStatus.OK).size());

        current[0] = null;
        released[0] = "NVML released while GPU 3 is reset";
        Snapshot during = s.sweepNow();
        assertTrue(during.nvmlUp(), "released is not down");
        assertEquals(8, during.gpus(GpuStatus.STALE).size());
        for (GpuSample g : during.gpus()) {
            assertTrue(g.isReleased());
            assertEquals(released[0], g.statusReason());
            assertEquals(before.gpu(g.index()).orElseThrow().readAt(), g.readAt(), "old readAt kept");
            assertEquals(40 + g.index(), g.valueOr(Reading.GPU_TEMP_C, -1), "values kept");
        }

        try (Nvml again = FakeNvml.open()) {
            current[0] = again;
            released[0] = null;
            Snapshot after = s.sweepNow();
            assertEquals(8, after.gpus(GpuStatus.OK).size());
            assertTrue(after.gpus().stream().allMatch(g -> g.readAt().isAfter(during.takenAt())), "fresh");
            sampler.close();
            sampler = null;
        }
    }
}
