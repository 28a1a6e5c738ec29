package io.gpuagent.exporter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.nvml.fake.FakeNvml;
import io.gpuagent.nvml.fake.Machines;
import io.gpuagent.nvml.fake.Scenario;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The sampler with DCGM embedded: the real FFM bindings against the fake NVML and the fake DCGM, one scenario file. */
class DcgmSamplerTest {
    private static final int VGPU_LICENSE_STATUS = 526;

    @BeforeAll
    static void openTheFake() {
        FakeNvml.shared();
    }

    private Sampler sampler;
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    @AfterEach
    void tearDown() {
        if (sampler != null) {
            sampler.close();
        }
        FakeNvml.apply(FakeDriverSamplerTest.baseScenario());
    }

    private static DcgmSettings embedded(DcgmSettings.Profiling profiling, Set<Integer> fields) {
        return new DcgmSettings(DcgmSettings.Mode.EMBEDDED, FakeNvml.DCGM_LIBRARY.toString(), "", profiling,
                Duration.ofSeconds(2), Duration.ofSeconds(1), fields);
    }

    private Sampler sampler(List<MetricDef> metrics, DcgmSettings dcgm) {
        EnumSet<Reading> readings = EnumSet.copyOf(MetricCatalog.readingsFor(metrics));
        readings.addAll(Reading.health());
        SamplerSettings s = new SamplerSettings(Duration.ofSeconds(1), Duration.ofMillis(800), readings, "testhost");
        Set<Integer> fields = new java.util.HashSet<>();
        metrics.stream().filter(MetricDef::isDcgmField).forEach(m -> fields.add(m.dcgmFieldId()));
        sampler = new Sampler(NvmlSource.of(FakeNvml.shared()), s, dcgm.withFields(fields), registry,
                Clock.systemUTC());
        return sampler;
    }

    private static List<MetricDef> profilingMetrics() {
        List<MetricDef> m = new ArrayList<>(MetricCatalog.defaultSet());
        m.add(MetricCatalog.byName("DCGM_FI_PROF_SM_ACTIVE").orElseThrow());
        return m;
    }

    private static Scenario a100WithProfiling() {
        return Machines.a100Pcie()
                .line("dcgm.gpu.*.field.1001 = 0.5").line("dcgm.gpu.*.field.1002 = 0.25")
                .line("dcgm.gpu.*.field.1004 = 0.125").line("dcgm.gpu.*.field.1005 = 0.75")
                .line("dcgm.gpu.1.field.1002 = 0.9");
    }

    private double source(String field, String source) {
        return registry.get(FieldSources.NAME).tag("field", field).tag("source", source).gauge().value();
    }

    @Test
    void anA100WithoutGpmGetsItsProfilingSeriesFromDcgm() {
        FakeNvml.apply(a100WithProfiling());
        List<MetricDef> metrics = profilingMetrics();
        Sampler s = sampler(metrics, embedded(DcgmSettings.Profiling.AUTO, Set.of()));
        new FieldSources(registry, metrics, true, s::latest);
        Snapshot snap = s.sweepNow();

        GpuSample g0 = snap.gpus().get(0);
        assertEquals(0.25, g0.raw(Reading.SM_ACTIVE));
        assertEquals(0.5, g0.raw(Reading.GR_ENGINE_ACTIVE));
        assertEquals(0.125, g0.raw(Reading.PIPE_TENSOR_ACTIVE));
        assertEquals(0.75, g0.raw(Reading.DRAM_ACTIVE));
        assertEquals(0.9, snap.gpus().get(1).raw(Reading.SM_ACTIVE));
        assertTrue(g0.dcgm().readings().containsAll(Set.of(Reading.SM_ACTIVE, Reading.DRAM_ACTIVE)));
        assertFalse(g0.dcgm().readings().contains(Reading.GPU_TEMP_C), "NVML's readings stay NVML's");

        String text = new GpuMetricsWriter(metrics, "Hostname", "testhost", GpuDecorator.NONE).renderText(snap);
        assertTrue(text.contains("DCGM_FI_PROF_SM_ACTIVE{gpu=\"1\","), text);
        assertTrue(lineOf(text, "DCGM_FI_PROF_SM_ACTIVE{gpu=\"1\",").endsWith("} 0.9"), text);
        assertTrue(lineOf(text, "DCGM_FI_PROF_DRAM_ACTIVE{gpu=\"0\",").endsWith("} 0.75"), text);
        assertTrue(lineOf(text, "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE{gpu=\"3\",").endsWith("} 0.125"), text);

        assertEquals(1, source("DCGM_FI_PROF_SM_ACTIVE", "dcgm"));
        assertEquals(0, source("DCGM_FI_PROF_SM_ACTIVE", "gpm"));
        assertEquals(1, source("DCGM_FI_DEV_GPU_TEMP", "nvml"));
    }

    @Test
    void theHostEngineGoingAwayLeavesNvmlFreshAndDcgmAbsentWithTheReasonThenReconnects() {
        FakeNvml.apply(a100WithProfiling());
        Sampler s = sampler(profilingMetrics(), embedded(DcgmSettings.Profiling.AUTO, Set.of()));
        assertEquals(0.25, s.sweepNow().gpus().get(0).raw(Reading.SM_ACTIVE));
        DcgmFeed feed = s.dcgm().orElseThrow();
        assertTrue(feed.up());

        FakeNvml.apply(a100WithProfiling().line("dcgm.hostengine_gone = 1"));
        GpuSample gone = s.sweepNow().gpus().get(0);
        assertEquals(GpuStatus.OK, gone.status(), "NVML goes on");
        assertTrue(gone.has(Reading.GPU_TEMP_C));
        assertFalse(gone.has(Reading.SM_ACTIVE), "DCGM's series go stale");
        assertTrue(gone.notes().stream().anyMatch(n -> n.contains("host engine went away")), gone.notes().toString());
        assertFalse(feed.up());
        assertTrue(feed.downReason().contains("reconnecting"), feed.downReason());

        FakeNvml.apply(a100WithProfiling());
        FakeNvml.eventually(Duration.ofSeconds(15), () -> {
            GpuSample back = s.sweepNow().gpus().get(0);
            assertEquals(0.25, back.raw(Reading.SM_ACTIVE), "reconnected: " + back.notes());
        });
        assertTrue(feed.up());
    }

    @Test
    void aDcgmReadThatDoesNotFinishIsNotWaitedForAndItsOldValuesAreDroppedAfterThreeSweeps() {
        FakeNvml.apply(a100WithProfiling());
        Sampler s = sampler(profilingMetrics(), embedded(DcgmSettings.Profiling.AUTO, Set.of()));
        assertEquals(0.25, s.sweepNow().gpus().get(0).raw(Reading.SM_ACTIVE));
        FakeNvml.apply(a100WithProfiling().line("dcgm.latency_ms.dcgmEntitiesGetLatestValues = 5000"));
        GpuSample waiting = s.sweepNow().gpus().get(0);
        assertEquals(0.25, waiting.raw(Reading.SM_ACTIVE), "the previous read's value, with a note");
        assertTrue(waiting.notes().stream().anyMatch(n -> n.contains("still running")), waiting.notes().toString());
        s.sweepNow();
        GpuSample dropped = s.sweepNow().gpus().get(0);
        assertFalse(dropped.has(Reading.SM_ACTIVE), dropped.toString());
        assertTrue(dropped.has(Reading.GPU_TEMP_C), "NVML's readings are on time");
        assertTrue(dropped.notes().stream().anyMatch(n -> n.contains("has not finished for 3 sweeps")),
                dropped.notes().toString());
        FakeNvml.apply(a100WithProfiling());
    }

    @Test
    void dcgmAbsentOrRefusingLeavesNvmlAsItWasAndARemoteHostEngineIsReachedOnceItAnswers() {
        FakeNvml.apply(a100WithProfiling());
        Sampler absent = sampler(profilingMetrics(), new DcgmSettings(DcgmSettings.Mode.EMBEDDED,
                "/nonexistent/libdcgm.so.4", "", DcgmSettings.Profiling.AUTO, Duration.ofSeconds(2),
                Duration.ofSeconds(1), Set.of()));
        GpuSample g = absent.sweepNow().gpus().get(0);
        assertEquals(GpuStatus.OK, g.status());
        assertTrue(g.has(Reading.GPU_TEMP_C));
        assertFalse(g.has(Reading.SM_ACTIVE), "an A100 without DCGM has no profiling series, as before");
        assertTrue(g.notes().stream().anyMatch(n -> n.contains("is not available")), g.notes().toString());
        assertFalse(absent.dcgm().orElseThrow().up());
        sampler.close();

        FakeNvml.apply(a100WithProfiling().line("dcgm.connect_error = -21"));
        Sampler remote = sampler(profilingMetrics(), new DcgmSettings(DcgmSettings.Mode.REMOTE,
                FakeNvml.DCGM_LIBRARY.toString(), "tcp://127.0.0.1:5555", DcgmSettings.Profiling.AUTO,
                Duration.ofSeconds(2), Duration.ofSeconds(1), Set.of()));
        assertFalse(remote.sweepNow().gpus().get(0).has(Reading.SM_ACTIVE));
        assertTrue(remote.dcgm().orElseThrow().downReason().contains("remote tcp://127.0.0.1:5555"),
                remote.dcgm().orElseThrow().downReason());
        FakeNvml.apply(a100WithProfiling());
        FakeNvml.eventually(Duration.ofSeconds(15),
                () -> assertEquals(0.25, remote.sweepNow().gpus().get(0).raw(Reading.SM_ACTIVE)));
    }

    @Test
    void onHopperGpmStaysOursUnlessDcgmIsAskedFor() throws Exception {
        FakeNvml.apply(FakeDriverSamplerTest.baseScenario().line("dcgm.gpu.*.field.1001 = 0.99"));
        List<MetricDef> metrics = profilingMetrics();
        Sampler s = sampler(metrics, embedded(DcgmSettings.Profiling.AUTO, Set.of()));
        s.sweepNow();
        Thread.sleep(150);   // GPM needs two samples at least 100 ms apart
        GpuSample g = s.sweepNow().gpus().get(0);
        assertEquals(0.5, g.raw(Reading.GR_ENGINE_ACTIVE), "GPM's 50 %");
        assertTrue(g.dcgm().readings().isEmpty());
        sampler.close();

        Sampler d = sampler(metrics, embedded(DcgmSettings.Profiling.DCGM, Set.of()));
        GpuSample fromDcgm = d.sweepNow().gpus().get(0);
        assertEquals(0.99, fromDcgm.raw(Reading.GR_ENGINE_ACTIVE));
        assertTrue(fromDcgm.dcgm().readings().contains(Reading.GR_ENGINE_ACTIVE));
    }

    @Test
    void healthIncidentsAndPolicyViolationsJoinTheSample() {
        FakeNvml.apply(a100WithProfiling().line("dcgm.gpu.2.health.0 = mem fail 43 double-bit ECC error"));
        Sampler s = sampler(profilingMetrics(), embedded(DcgmSettings.Profiling.AUTO, Set.of()));
        Snapshot first = s.sweepNow();
        GpuSample g2 = first.gpus().get(2);
        assertEquals(List.of(new DcgmIncident("MEM", true, 43, "double-bit ECC error")), g2.dcgm().incidents());

        // dcgm-exporter's DCGM_EXP_GPU_HEALTH_STATUS: a series per watch and GPU, the incident's result and code.
        List<MetricDef> health = CountersFile.parse("health.csv",
                List.of("DCGM_EXP_GPU_HEALTH_STATUS, counter, DCGM reported health status"), true).metrics();
        String text = new GpuMetricsWriter(health, "Hostname", "testhost", GpuDecorator.NONE).renderText(first);
        assertEquals(4 * 11, text.lines().filter(l -> l.startsWith("DCGM_EXP_GPU_HEALTH_STATUS{")).count(), text);
        assertTrue(lineOf(text, "DCGM_EXP_GPU_HEALTH_STATUS{gpu=\"2\",").contains("health_watch=\"PCIE\","
                + "health_error_code=\"DCGM_FR_OK\"} 0"), text);
        assertTrue(text.lines().anyMatch(l -> l.startsWith("DCGM_EXP_GPU_HEALTH_STATUS{gpu=\"2\",")
                && l.endsWith(",health_watch=\"MEM\",health_error_code=\"" + DcgmErrors.name(43) + "\"} 20")), text);
        assertEquals(List.of("DCGM_EXP_GPU_HEALTH_STATUS (line 1)"),
                CountersFile.parse("health.csv", List.of("DCGM_EXP_GPU_HEALTH_STATUS, counter, x"), false).skipped(),
                "skipped with DCGM off, as before");

        // Registered by the first sweep's connect; the fake's own thread delivers it from now on.
        long n = FakeNvml.nextEventNumber();
        FakeNvml.apply(a100WithProfiling().line("dcgm.policy." + n + " = 1 xid 79"));
        List<DcgmViolation> seen = new ArrayList<>();
        FakeNvml.eventually(Duration.ofSeconds(10), () -> {
            seen.addAll(s.sweepNow().gpus().get(1).dcgm().violations());
            assertFalse(seen.isEmpty());
        });
        assertEquals("XID", seen.getFirst().condition());
        assertEquals(79, seen.getFirst().value());
    }

    @Test
    void aMigGpuWithoutGpmGetsEachGpuInstancesProfilingFromDcgm() {
        FakeNvml.apply(Machines.h100Mig().all("name", "NVIDIA A100-SXM4-80GB").all("architecture", 7)
                .all("gpm_supported", 0)
                .line("dcgm.gpu.0.field.1001 = 0.3").line("dcgm.gpu.0.mig.2.field.1001 = 0.4")
                .line("dcgm.gpu.0.mig.7.field.1001 = 0.1"));
        List<MetricDef> metrics = profilingMetrics();
        Sampler s = sampler(metrics, embedded(DcgmSettings.Profiling.AUTO, Set.of()));
        Snapshot snap = s.sweepNow();
        GpuSample gpu0 = snap.gpu(0).orElseThrow();
        assertEquals(List.of(2, 7, 8, 9), gpu0.migDevices().stream().map(m -> m.info().gpuInstanceId()).toList());
        assertEquals(0.3, gpu0.raw(Reading.GR_ENGINE_ACTIVE));
        assertEquals(0.4, gpu0.migDevices().get(0).raw(Reading.GR_ENGINE_ACTIVE), "GPU instance 2's own");
        assertEquals(0.1, gpu0.migDevices().get(1).raw(Reading.GR_ENGINE_ACTIVE), "GPU instance 7's own");
        assertFalse(gpu0.migDevices().get(2).has(Reading.GR_ENGINE_ACTIVE), "no value for instance 8 in the scenario");

        String text = new GpuMetricsWriter(metrics, "Hostname", "testhost", GpuDecorator.NONE).renderText(snap);
        String gi2 = text.lines().filter(l -> l.startsWith("DCGM_FI_PROF_GR_ENGINE_ACTIVE{gpu=\"0\",")
                && l.contains("GPU_I_ID=\"2\"")).findFirst().orElse("<none>\n" + text);
        assertTrue(gi2.endsWith("} 0.4"), gi2);
    }

    @Test
    void aBurstOfAThousandPolicyViolationsReachesTheSamplesWithNoneDropped() {
        FakeNvml.apply(a100WithProfiling());
        Sampler s = sampler(profilingMetrics(), embedded(DcgmSettings.Profiling.AUTO, Set.of()));
        s.sweepNow();
        FakeNvml.apply(a100WithProfiling().line("dcgm.policy." + FakeNvml.nextEventNumber() + " = 3 dbe 1 x1000"));
        int[] seen = new int[1];
        FakeNvml.eventually(Duration.ofSeconds(15), () -> {
            for (GpuSample g : s.sweepNow().gpus()) {
                for (DcgmViolation v : g.dcgm().violations()) {
                    assertEquals(3, g.index(), "only GPU 3's");
                    assertEquals("DBE", v.condition());
                    seen[0]++;
                }
            }
            assertEquals(1000, seen[0]);
        });
        assertTrue(s.dcgm().orElseThrow().up());
    }

    @Test
    void dcgmExporterShippedCountersFilesAreServedInFull() throws Exception {
        FakeNvml.apply(FakeDriverSamplerTest.baseScenario().line("dcgm.gpu.*.field." + VGPU_LICENSE_STATUS + " = 1"));
        for (String file : List.of("/dcgm-exporter/default-counters.csv", "/dcgm-exporter/dcp-metrics-included.csv",
                "/io/gpuagent/exporter/" + DefaultSet.DCGM_EXPORTER_4_10.resource())) {
            CountersFile counters = CountersFile.parse(file, lines(file), true);
            assertEquals(List.of(), counters.skipped(), file);
            Sampler s = sampler(counters.metrics(), embedded(DcgmSettings.Profiling.AUTO, Set.of()));
            s.sweepNow();
            Thread.sleep(150);
            Snapshot snap = s.sweepNow();
            String text = new GpuMetricsWriter(counters.metrics(), "Hostname", "testhost", GpuDecorator.NONE)
                    .renderText(snap);
            for (MetricDef m : counters.metrics()) {
                if (m.type() == MetricType.LABEL) {
                    assertTrue(text.contains("," + m.name() + "=\""), m.name() + " label missing in " + file);
                    continue;
                }
                for (int i = 0; i < 8; i++) {
                    assertTrue(text.contains(m.name() + "{gpu=\"" + i + "\","), m.name() + " missing for GPU " + i
                            + " in " + file + ":\n" + text);
                }
            }
            assertTrue(lineOf(text, "DCGM_FI_DEV_VGPU_LICENSE_STATUS{gpu=\"0\",").endsWith("} 1")
                    || !file.contains("dcgm-exporter/"), text);
            sampler.close();
            sampler = null;
        }
    }

    private static List<String> lines(String resource) throws IOException {
        try (InputStream in = DcgmSamplerTest.class.getResourceAsStream(resource)) {
            assertTrue(in != null, resource);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        }
    }

    private static String lineOf(String text, String prefix) {
        for (String l : text.split("\n")) {
            if (l.startsWith(prefix)) {
                return l;
            }
        }
        return "<no line " + prefix + ">";
    }
}
