package io.gpuagent.exporter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.nvml.Nvml;
import io.gpuagent.nvml.NvmlReturn;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The sampler's rules (deadlines, stale, lost, NOT_SUPPORTED, errors) against a Java fake of {@link Nvml}. */
class SamplerLogicTest {
    private final JavaFakeNvml nvml = new JavaFakeNvml(4);
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private Sampler sampler;

    private Sampler sampler(Duration interval, Duration deadline) {
        SamplerSettings s = new SamplerSettings(interval, deadline, Set.of(), "node1", 60, 300, 3);
        sampler = new Sampler(NvmlSource.of(nvml), s, registry, Clock.systemUTC());
        return sampler;
    }

    @AfterEach
    void close() {
        if (sampler != null) {
            sampler.close();
        }
    }

    @Test
    void firstSnapshotIsEmptyThenEveryGpuIsRead() {
        Sampler s = sampler(Duration.ofSeconds(1), Duration.ofMillis(500));
        Snapshot initial = s.latest();
        assertEquals(0, initial.sequence());
        assertTrue(initial.gpus().isEmpty());
        assertFalse(initial.nvmlUp());

        Snapshot snap = s.sweepNow();
        assertEquals(1, snap.sequence());
        assertTrue(snap.nvmlUp());
        assertEquals("550.54.15", snap.driverVersion());
        assertEquals(4, snap.deviceCount());
        assertEquals(4, snap.gpus().size());
        GpuSample g2 = snap.gpu(2).orElseThrow();
        assertEquals(GpuStatus.OK, g2.status());
        assertEquals("NVIDIA H100 80GB HBM3", g2.info().name());
        assertEquals("nvidia2", g2.info().deviceName());
        assertEquals(42, g2.valueOr(Reading.GPU_TEMP_C, -1));
        assertEquals(32, g2.valueOr(Reading.MEMORY_TEMP_C, -1));
        assertEquals(100.002, g2.valueOr(Reading.POWER_USAGE_W, -1), 1e-9);
        assertEquals(1024, g2.valueOr(Reading.FB_USED_MIB, -1));
        assertEquals(300, g2.valueOr(Reading.NVLINK_BANDWIDTH_TOTAL_KIB, -1));
        assertEquals(700, g2.valueOr(Reading.POWER_LIMIT_W, -1));
        assertEquals(2, g2.nvLinks().size());
        assertEquals(2, g2.valueOr(Reading.NVLINK_LINKS, -1));
        assertEquals(16, g2.pcieLink().orElseThrow().maxWidth());
        assertFalse(g2.has(Reading.FAN_SPEED_PCT), "no fans: absent");
        assertFalse(g2.has(Reading.GR_ENGINE_ACTIVE), "no GPM: absent");
        assertEquals(2, s.latest().gpu(2).orElseThrow().index());
        assertEquals(snap, s.latest());
    }

    @Test
    void notSupportedIsAbsentNotCountedAndNotAskedAgain() {
        nvml.gpus.get(1).fail("clockMhz", NvmlReturn.NOT_SUPPORTED);
        nvml.gpus.get(1).fieldErrors.put(82, NvmlReturn.NOT_SUPPORTED.code());
        Sampler s = sampler(Duration.ofSeconds(1), Duration.ofMillis(500));
        s.sweepNow();
        int callsAfterFirst = nvml.gpus.get(1).calls("clockMhz");
        Snapshot snap = s.sweepNow();
        GpuSample g1 = snap.gpu(1).orElseThrow();
        assertFalse(g1.has(Reading.SM_CLOCK_MHZ));
        assertFalse(g1.has(Reading.MEMORY_TEMP_C));
        assertEquals(GpuStatus.OK, g1.status());
        assertTrue(snap.gpu(0).orElseThrow().has(Reading.SM_CLOCK_MHZ));
        assertEquals(callsAfterFirst, nvml.gpus.get(1).calls("clockMhz"), "NOT_SUPPORTED is remembered");
        assertTrue(registry.find(AgentMeters.NVML_ERRORS).counters().isEmpty(), "NOT_SUPPORTED is not an error");
    }

    @Test
    void failedCallsAreCountedByFunctionAndCode() {
        nvml.gpus.get(3).fail("powerUsageMw", NvmlReturn.UNKNOWN);
        nvml.gpus.get(3).fieldErrors.put(83, NvmlReturn.TIMEOUT.code());
        Sampler s = sampler(Duration.ofSeconds(1), Duration.ofMillis(500));
        s.sweepNow();
        Snapshot snap = s.sweepNow();
        assertFalse(snap.gpu(3).orElseThrow().has(Reading.POWER_USAGE_W));
        assertFalse(snap.gpu(3).orElseThrow().has(Reading.TOTAL_ENERGY_MJ));
        Counter c = registry.find(AgentMeters.NVML_ERRORS).tag("function", "nvmlPowerUsageMw").tag("code", "UNKNOWN").counter();
        assertNotNull(c);
        assertEquals(2, c.count());
        assertEquals(2, registry.find(AgentMeters.NVML_ERRORS).tag("function", "nvmlDeviceGetFieldValues")
                .tag("code", "TIMEOUT").counter().count());
    }

    @Test
    void hungGpuIsStaleWithItsOldValuesAndIsNotResubmitted() throws Exception {
        Sampler s = sampler(Duration.ofSeconds(1), Duration.ofMillis(200));
        GpuSample before = s.sweepNow().gpu(2).orElseThrow();
        CountDownLatch release = nvml.gpus.get(2).block("temperature");
        try {
            long t0 = System.nanoTime();
            Snapshot snap = s.sweepNow();
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms < 5_000, "the sweep waited " + ms + " ms");
            GpuSample g2 = snap.gpu(2).orElseThrow();
            assertEquals(GpuStatus.STALE, g2.status());
            assertEquals(before.readAt(), g2.readAt(), "old readAt kept");
            assertEquals(42, g2.valueOr(Reading.GPU_TEMP_C, -1), "old values kept");
            assertTrue(g2.statusReason().contains("nvmlDeviceGetTemperatureV"), g2.statusReason());
            for (int i : new int[] {0, 1, 3}) {
                assertEquals(GpuStatus.OK, snap.gpu(i).orElseThrow().status());
                assertTrue(snap.gpu(i).orElseThrow().readAt().isAfter(before.readAt()));
            }
            int tempCalls = nvml.gpus.get(2).calls("temperature");
            Snapshot again = s.sweepNow();
            assertEquals(GpuStatus.STALE, again.gpu(2).orElseThrow().status());
            assertEquals(tempCalls, nvml.gpus.get(2).calls("temperature"), "not resubmitted while in flight");
            long lt0 = System.nanoTime();
            s.latest();
            assertTrue(System.nanoTime() - lt0 < 50_000_000L);
        } finally {
            release.countDown();
        }
        nvml.gpus.get(2).blockedMethod = null;
        Thread.sleep(50);
        Snapshot recovered = s.sweepNow();
        assertEquals(GpuStatus.OK, recovered.gpu(2).orElseThrow().status());
        assertNull(recovered.gpu(2).orElseThrow().statusReason());
    }

    @Test
    void aFirstReadThatHangsShowsAsAnUnknownStaleGpuWhoseAgeGrows() throws Exception {
        CountDownLatch release = nvml.gpus.get(1).block("uuid");
        try {
            Sampler s = sampler(Duration.ofSeconds(1), Duration.ofMillis(50));
            s.sweepNow();
            Thread.sleep(300);
            Snapshot snap = s.sweepNow();
            GpuSample g1 = snap.gpu(1).orElseThrow();
            assertEquals(GpuStatus.STALE, g1.status());
            assertFalse(g1.info().known());
            assertTrue(g1.statusReason().contains("nvmlDeviceGetUUID"), g1.statusReason());
            assertTrue(snap.age(java.time.Instant.now()).toMillis() >= 300, "the hung GPU ages the snapshot");
            GpuMetricsWriter w = new GpuMetricsWriter(MetricCatalog.defaultSet(), "Hostname", "n", GpuDecorator.NONE);
            assertFalse(w.renderText(snap).contains("gpu=\"1\""));
        } finally {
            release.countDown();
        }
    }

    @Test
    void lostGpuIsLostOthersKeepReportingAndItIsProbedRarely() {
        Sampler s = sampler(Duration.ofSeconds(1), Duration.ofMillis(500));
        s.sweepNow();
        nvml.gpus.get(3).lost = true;
        Snapshot snap = s.sweepNow();
        assertEquals(GpuStatus.LOST, snap.gpu(3).orElseThrow().status());
        assertTrue(snap.gpu(3).orElseThrow().statusReason().contains("GPU_IS_LOST"));
        assertEquals(GpuStatus.OK, snap.gpu(0).orElseThrow().status());
        int probes = nvml.gpus.get(3).calls("fieldValues");
        s.sweepNow();
        s.sweepNow();
        assertEquals(probes, nvml.gpus.get(3).calls("fieldValues"), "not polled between probes");
        nvml.gpus.get(3).lost = false;
        s.sweepNow();
        Snapshot back = s.sweepNow();
        assertEquals(GpuStatus.OK, back.gpu(3).orElseThrow().status(), "probed again after lostRetry sweeps");
    }

    @Test
    void aGpuTheDriverStopsReportingIsLost() {
        Sampler s = sampler(Duration.ofSeconds(1), Duration.ofMillis(500));
        s.sweepNow();
        nvml.count = 3;
        Snapshot snap = s.sweepNow();
        assertEquals(3, snap.deviceCount());
        assertEquals(GpuStatus.LOST, snap.gpu(3).orElseThrow().status());
        assertEquals(GpuStatus.OK, snap.gpu(2).orElseThrow().status());
    }

    @Test
    void nvmlDownIsASnapshotWithTheReason() {
        AtomicReference<Nvml> current = new AtomicReference<>();
        NvmlSource source = new NvmlSource() {
            @Override
            public Optional<Nvml> current() {
                return Optional.ofNullable(current.get());
            }

            @Override
            public String downReason() {
                return current.get() == null ? "NVML not found at libnvidia-ml.so.1" : null;
            }
        };
        sampler = new Sampler(source, SamplerSettings.defaults(), registry, Clock.systemUTC());
        Snapshot down = sampler.sweepNow();
        assertFalse(down.nvmlUp());
        assertEquals("NVML not found at libnvidia-ml.so.1", down.nvmlDownReason());
        assertEquals(0, down.deviceCount());
        current.set(nvml);
        Snapshot up = sampler.sweepNow();
        assertTrue(up.nvmlUp());
        assertEquals(4, up.gpus().size());
    }

    @Test
    void onlyRequestedReadingsAreRead() {
        SamplerSettings settings = new SamplerSettings(Duration.ofSeconds(1), Duration.ofMillis(500),
                Set.of(Reading.GPU_TEMP_C), "node1");
        sampler = new Sampler(NvmlSource.of(nvml), settings, registry, Clock.systemUTC());
        GpuSample g = sampler.sweepNow().gpu(0).orElseThrow();
        assertTrue(g.has(Reading.GPU_TEMP_C));
        assertFalse(g.has(Reading.SM_CLOCK_MHZ));
        assertEquals(0, nvml.gpus.get(0).calls("fieldValues"));
        assertEquals(0, nvml.gpus.get(0).calls("clockMhz"));
    }

    @Test
    void theThreadPublishesOnItsIntervalAndListenersSeeEverySnapshot() throws Exception {
        Sampler s = sampler(Duration.ofMillis(50), Duration.ofMillis(40));
        CountDownLatch three = new CountDownLatch(3);
        s.onSnapshot(snap -> three.countDown());
        s.start();
        assertTrue(three.await(10, java.util.concurrent.TimeUnit.SECONDS));
        assertTrue(s.latest().sequence() >= 3);
        s.close();
        long seq = s.latest().sequence();
        Thread.sleep(150);
        assertEquals(seq, s.latest().sequence(), "stopped");
    }
}
