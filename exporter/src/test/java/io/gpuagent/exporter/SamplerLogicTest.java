package io.gpuagent.exporter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.nvml.Nvml;
import io.gpuagent.nvml.fake.FakeNvml;
import io.gpuagent.nvml.fake.Scenario;
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
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The sampler's rules (deadlines, stale, lost, NOT_SUPPORTED, errors) against the C fake driver through the
 * real bindings. A hang is the fake's {@code latency_ms}; "not called" shows as a reading that stays absent or
 * stale after the driver would answer it.
 */
class SamplerLogicTest {
    /** Four H100s, each with plausible values distinct per GPU. */
    private static Scenario fourGpus() {
        return gpus(4);
    }

    private static Scenario gpus(int count) {
        Scenario s = Scenario.gpus(count).driverVersion("550.54.15").all("memory_used_mib", 1024).all("nvlinks", 2)
                .all("nvlink_tx_kib", 100).all("nvlink_rx_kib", 200).all("gpm_supported", 0);
        for (int i = 0; i < count; i++) {
            s.temp(i, 40 + i).gpu(i, "mem_temp", 30 + i).gpu(i, "power_mw", 100_000 + i);
        }
        return s;
    }

    private final Nvml nvml = FakeNvml.shared();
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private Sampler sampler;

    /** Longer than any deadline here, short enough that the hung call is back before the test ends. */
    private static final long HANG_MS = 1500;

    private Sampler sampler(Duration interval, Duration deadline) {
        SamplerSettings s = new SamplerSettings(interval, deadline, Set.of(), "node1", 60, 300, 3);
        sampler = new Sampler(NvmlSource.of(nvml), s, registry, Clock.systemUTC());
        return sampler;
    }

    @BeforeEach
    void scenario() {
        FakeNvml.apply(fourGpus());
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
        FakeNvml.apply(fourGpus().unsupported(1, "nvmlDeviceGetClockInfo").unsupportedField(1, 82));
        Sampler s = sampler(Duration.ofSeconds(1), Duration.ofMillis(500));
        s.sweepNow();
        FakeNvml.apply(fourGpus().unsupportedField(1, 82));   // the driver would answer the clocks now
        Snapshot snap = s.sweepNow();
        GpuSample g1 = snap.gpu(1).orElseThrow();
        assertFalse(g1.has(Reading.SM_CLOCK_MHZ));
        assertFalse(g1.has(Reading.MEMORY_TEMP_C));
        assertEquals(GpuStatus.OK, g1.status());
        assertTrue(snap.gpu(0).orElseThrow().has(Reading.SM_CLOCK_MHZ));
        assertFalse(g1.has(Reading.SM_CLOCK_MHZ), "NOT_SUPPORTED is remembered: not asked again");
        assertTrue(registry.find(AgentMeters.NVML_ERRORS).counters().isEmpty(), "NOT_SUPPORTED is not an error");
    }

    @Test
    void failedCallsAreCountedByFunctionAndCode() {
        FakeNvml.apply(fourGpus().error(3, "nvmlDeviceGetPowerUsage", NvmlReturn.UNKNOWN.code())
                .fieldError(3, 83, NvmlReturn.TIMEOUT.code()));
        Sampler s = sampler(Duration.ofSeconds(1), Duration.ofMillis(500));
        s.sweepNow();
        Snapshot snap = s.sweepNow();
        assertFalse(snap.gpu(3).orElseThrow().has(Reading.POWER_USAGE_W));
        assertFalse(snap.gpu(3).orElseThrow().has(Reading.TOTAL_ENERGY_MJ));
        Counter c = registry.find(AgentMeters.NVML_ERRORS).tag("function", "nvmlDeviceGetPowerUsage").tag("code", "UNKNOWN").counter();
        assertNotNull(c);
        assertEquals(2, c.count());
        assertEquals(2, registry.find(AgentMeters.NVML_ERRORS).tag("function", "nvmlDeviceGetFieldValues")
                .tag("code", "TIMEOUT").counter().count());
    }

    @Test
    void hungGpuIsStaleWithItsOldValuesAndIsNotResubmitted() throws Exception {
        Sampler s = sampler(Duration.ofSeconds(1), Duration.ofMillis(200));
        GpuSample before = s.sweepNow().gpu(2).orElseThrow();
        FakeNvml.apply(fourGpus().latency(2, "nvmlDeviceGetTemperatureV", HANG_MS));
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
        FakeNvml.apply(fourGpus());   // a new call would answer at once
        Snapshot again = s.sweepNow();
        assertEquals(GpuStatus.STALE, again.gpu(2).orElseThrow().status(), "not resubmitted while in flight");
        long lt0 = System.nanoTime();
        s.latest();
        assertTrue(System.nanoTime() - lt0 < 50_000_000L);
        Snapshot[] recovered = new Snapshot[1];
        FakeNvml.await(() -> (recovered[0] = s.sweepNow()).gpu(2).orElseThrow().status() == GpuStatus.OK,
                "GPU 2 to be read again once its hung call returned");
        assertEquals(GpuStatus.OK, recovered[0].gpu(2).orElseThrow().status());
        assertNull(recovered[0].gpu(2).orElseThrow().statusReason());
    }

    @Test
    void aFirstReadThatHangsShowsAsAnUnknownStaleGpuWhoseAgeGrows() throws Exception {
        FakeNvml.apply(fourGpus().latency(1, "nvmlDeviceGetUUID", HANG_MS));
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
    }

    @Test
    void lostGpuIsLostOthersKeepReportingAndItIsProbedRarely() {
        Sampler s = sampler(Duration.ofSeconds(1), Duration.ofMillis(500));
        s.sweepNow();
        FakeNvml.apply(fourGpus().lost(3));
        Snapshot snap = s.sweepNow();
        assertEquals(GpuStatus.LOST, snap.gpu(3).orElseThrow().status());
        assertTrue(snap.gpu(3).orElseThrow().statusReason().contains("GPU_IS_LOST"));
        assertEquals(GpuStatus.OK, snap.gpu(0).orElseThrow().status());
        FakeNvml.apply(fourGpus());   // the driver answers again: a poll would see it
        assertEquals(GpuStatus.LOST, s.sweepNow().gpu(3).orElseThrow().status(), "not polled between probes");
        assertEquals(GpuStatus.LOST, s.sweepNow().gpu(3).orElseThrow().status(), "not polled between probes");
        s.sweepNow();
        Snapshot back = s.sweepNow();
        assertEquals(GpuStatus.OK, back.gpu(3).orElseThrow().status(), "probed again after lostRetry sweeps");
    }

    @Test
    void aGpuTheDriverStopsReportingIsLost() {
        Sampler s = sampler(Duration.ofSeconds(1), Duration.ofMillis(500));
        s.sweepNow();
        FakeNvml.apply(gpus(3));
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
        // Calls it must not make fail loudly (they would count as errors).
        FakeNvml.apply(fourGpus().error(0, "nvmlDeviceGetFieldValues", NvmlReturn.UNKNOWN.code())
                .error(0, "nvmlDeviceGetClockInfo", NvmlReturn.UNKNOWN.code()));
        SamplerSettings settings = new SamplerSettings(Duration.ofSeconds(1), Duration.ofMillis(500),
                Set.of(Reading.GPU_TEMP_C), "node1");
        sampler = new Sampler(NvmlSource.of(nvml), settings, registry, Clock.systemUTC());
        GpuSample g = sampler.sweepNow().gpu(0).orElseThrow();
        assertTrue(g.has(Reading.GPU_TEMP_C));
        assertFalse(g.has(Reading.SM_CLOCK_MHZ));
        assertTrue(registry.find(AgentMeters.NVML_ERRORS).tag("function", "nvmlDeviceGetFieldValues").counters().isEmpty(),
                "field values not read");
        assertTrue(registry.find(AgentMeters.NVML_ERRORS).tag("function", "nvmlDeviceGetClockInfo").counters().isEmpty(),
                "clocks not read");
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

    @Test
    void sweepSoonStartsTheNextSweepWithoutWaitingForTheInterval() throws Exception {
        Sampler s = sampler(Duration.ofHours(1), Duration.ofMillis(500));
        CountDownLatch first = new CountDownLatch(1);
        CountDownLatch second = new CountDownLatch(2);
        s.onSnapshot(snap -> {
            first.countDown();
            second.countDown();
        });
        s.start();
        assertTrue(first.await(10, java.util.concurrent.TimeUnit.SECONDS), "the first sweep starts at once");
        assertEquals(1, s.latest().sequence());
        s.sweepSoon();   // as NVML coming up does: without it the next sweep is an hour away
        assertTrue(second.await(10, java.util.concurrent.TimeUnit.SECONDS), "a second sweep without waiting an hour");
        assertEquals(2, s.latest().sequence());
    }
}
