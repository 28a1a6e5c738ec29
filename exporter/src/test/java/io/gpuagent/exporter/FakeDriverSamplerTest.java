package io.gpuagent.exporter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.gpuagent.nvml.fake.FakeNvml;
import io.gpuagent.nvml.fake.Machines;
import io.gpuagent.nvml.fake.Promtool;
import io.gpuagent.nvml.fake.Promtool.Lint;
import io.gpuagent.nvml.fake.Scenario;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** End to end through the real FFM bindings against the C fake driver, values driven by its scenario file. */
class FakeDriverSamplerTest {
    /** Before any scenario is applied: the fake watches its scenario file only while NVML is open. */
    @BeforeAll
    static void openTheFake() {
        FakeNvml.shared();
    }

    static final String UUID0 = "GPU-11111111-2222-3333-4444-555555555555";

    /** 8 GPUs, every default-set value set and distinct per GPU. */
    static Scenario baseScenario() {
        Scenario s = Machines.dgxH100().driverVersion("550.54.15")
                .all("clock_sm", 1980).all("clock_mem", 2619)
                .all("util_mem", 5).all("util_enc", 1).all("util_dec", 2)
                .all("nvlink_tx_kib", 100).all("nvlink_rx_kib", 200)
                .all("pcie_tx_kbps", 1024).all("pcie_rx_kbps", 2048)
                .all("gpm.1", 50).all("gpm.5", 25).all("gpm.10", 12.5)
                .gpu(0, "uuid", UUID0).gpu(0, "pci_bus_id", "00000000:18:00.0");
        for (int i = 0; i < 8; i++) {
            s.temp(i, 40 + i).gpu(i, "mem_temp", 30 + i).gpu(i, "util_gpu", 10 + i)
                    .gpu(i, "memory_used_mib", 1024 * (i + 1)).gpu(i, "power_mw", 100000 + 500 * i)
                    .gpu(i, "pcie_replay", i).gpu(i, "remap_correctable", i).gpu(i, "remap_uncorrectable", i % 2);
        }
        return s;
    }

    private Sampler sampler;
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    private Sampler sampler(Duration interval, Duration deadline) {
        SamplerSettings s = new SamplerSettings(interval, deadline, Set.of(), "testhost");
        sampler = new Sampler(NvmlSource.of(FakeNvml.shared()), s, registry, Clock.systemUTC());
        return sampler;
    }

    @AfterEach
    void tearDown() {
        if (sampler != null) {
            sampler.close();
        }
        FakeNvml.apply(baseScenario());
    }

    /** Two sweeps 150 ms apart: the second has GPM metrics (they need two samples). */
    private Snapshot twoSweeps(Sampler s) throws InterruptedException {
        s.sweepNow();
        Thread.sleep(150);
        return s.sweepNow();
    }

    @Test
    void topologyIsReadOncePerSetOfGpusAndFollowsTheDriver() throws Exception {
        FakeNvml.apply(baseScenario().line("topology.0.1 = 10"));
        Sampler s = sampler(Duration.ofSeconds(1), Duration.ofMillis(800));
        Snapshot snap = s.sweepNow();
        Topology t = snap.topology();
        assertEquals(28, t.pairs().size(), "one per pair of 8 GPUs");
        String u0 = snap.gpus().get(0).uuid();
        String u1 = snap.gpus().get(1).uuid();
        String u3 = snap.gpus().get(3).uuid();
        String u4 = snap.gpus().get(4).uuid();
        assertEquals(new Topology.Pair(u0, u1, 10, true, 18), t.pair(u1, u0).orElseThrow());
        assertEquals(20, t.pair(u0, u3).orElseThrow().pcieLevel());
        assertEquals(50, t.pair(u0, u4).orElseThrow().pcieLevel());
        assertTrue(t.pairs().stream().allMatch(Topology.Pair::nvlink), "all on the same NVSwitches");
        assertSame(t, s.sweepNow().topology(), "not read again while the GPUs stay");

        // GPU 3 without NVLink, GPU 5 lost: read again, 3 has no NVLink peers, 5 is left out.
        FakeNvml.apply(baseScenario().gpu(3, "nvlinks", 0).lost(5));
        Topology again = s.sweepNow().topology();
        assertEquals(21, again.pairs().size(), "7 GPUs");
        Topology.Pair p03 = again.pair(u0, u3).orElseThrow();
        assertFalse(p03.nvlink());
        assertEquals(0, p03.nvlinkCount());
        assertTrue(again.pair(u0, snap.gpus().get(5).uuid()).isEmpty());
    }

    @Test
    void everyDefaultMetricForEightGpusWithExactNamesLabelsAndValues() throws Exception {
        FakeNvml.apply(baseScenario());
        Snapshot snap = twoSweeps(sampler(Duration.ofSeconds(1), Duration.ofMillis(800)));
        assertEquals(8, snap.gpus().size());
        String text = new GpuMetricsWriter(MetricCatalog.defaultSet(), "Hostname", "testhost", GpuDecorator.NONE)
                .renderText(snap);

        for (MetricDef m : MetricCatalog.defaultSet()) {
            if (m.type() == MetricType.LABEL) {
                continue;
            }
            assertTrue(text.contains("# TYPE " + m.name() + " " + m.type().text() + "\n"), m.name() + " missing:\n" + text);
            for (int i = 0; i < 8; i++) {
                assertTrue(text.contains(m.name() + "{gpu=\"" + i + "\","), m.name() + " missing for GPU " + i);
            }
        }

        String labels0 = "{gpu=\"0\",UUID=\"" + UUID0 + "\",pci_bus_id=\"00000000:18:00.0\",device=\"nvidia0\","
                + "modelName=\"NVIDIA H100 80GB HBM3\",Hostname=\"testhost\",DCGM_FI_DRIVER_VERSION=\"550.54.15\"";
        List<String> gpu0 = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (line.contains("{gpu=\"0\",")) {
                gpu0.add(line.startsWith("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{") ? energyMasked(line) : line);
            }
        }
        String expected = """
                DCGM_FI_DEV_SM_CLOCK%1$s} 1980
                DCGM_FI_DEV_MEM_CLOCK%1$s} 2619
                DCGM_FI_DEV_MEMORY_TEMP%1$s} 30
                DCGM_FI_DEV_GPU_TEMP%1$s} 40
                DCGM_FI_DEV_POWER_USAGE%1$s} 100
                DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION%1$s} <energy>
                DCGM_FI_DEV_PCIE_REPLAY_COUNTER%1$s} 0
                DCGM_FI_DEV_GPU_UTIL%1$s} 10
                DCGM_FI_DEV_MEM_COPY_UTIL%1$s} 5
                DCGM_FI_DEV_ENC_UTIL%1$s} 1
                DCGM_FI_DEV_DEC_UTIL%1$s} 2
                DCGM_FI_DEV_XID_ERRORS%1$s,err_code="0"} 0
                DCGM_FI_DEV_FB_FREE%1$s} 80001
                DCGM_FI_DEV_FB_USED%1$s} 1024
                DCGM_FI_DEV_FB_RESERVED%1$s} 534
                DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL%1$s} 300
                DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS%1$s} 0
                DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS%1$s} 0
                DCGM_FI_DEV_ROW_REMAP_FAILURE%1$s} 0
                DCGM_FI_PROF_GR_ENGINE_ACTIVE%1$s} 0.5
                DCGM_FI_PROF_PIPE_TENSOR_ACTIVE%1$s} 0.25
                DCGM_FI_PROF_DRAM_ACTIVE%1$s} 0.125
                DCGM_FI_PROF_PCIE_TX_BYTES%1$s} 1048576
                DCGM_FI_PROF_PCIE_RX_BYTES%1$s} 2097152
                """.formatted(labels0);
        assertEquals(expected, String.join("\n", gpu0) + "\n");

        // GPU 5's distinct values
        GpuSample g5 = snap.gpu(5).orElseThrow();
        assertEquals(45, g5.valueOr(Reading.GPU_TEMP_C, -1));
        assertEquals(35, g5.valueOr(Reading.MEMORY_TEMP_C, -1));
        assertEquals(15, g5.valueOr(Reading.GPU_UTIL_PCT, -1));
        assertEquals(6144, g5.valueOr(Reading.FB_USED_MIB, -1));
        assertEquals(102.5, g5.valueOr(Reading.POWER_USAGE_W, -1));
        assertEquals(5, g5.valueOr(Reading.PCIE_REPLAY_COUNTER, -1));
        assertEquals(5, g5.valueOr(Reading.REMAPPED_ROWS_CORRECTABLE, -1));
        assertEquals(1, g5.valueOr(Reading.REMAPPED_ROWS_UNCORRECTABLE, -1));
        assertTrue(text.contains("DCGM_FI_DEV_GPU_TEMP{gpu=\"5\","));
        assertTrue(Pattern.compile("^DCGM_FI_DEV_GPU_TEMP\\{gpu=\"5\",.*\\} 45$", Pattern.MULTILINE).matcher(text).find());
        assertTrue(g5.valueOr(Reading.TOTAL_ENERGY_MJ, -1) >= 0);
        assertEquals(18, g5.nvLinks().size(), "DGX H100: 18 links");
        assertTrue(g5.nvLinks().stream().allMatch(NvLinkInfo::active));

        Promtool.checkMetrics(text, Lint.DCGM_NAMES);
    }

    private static String energyMasked(String line) {
        Matcher m = Pattern.compile("^(.*\\}) (\\d+)$").matcher(line);
        assertTrue(m.matches(), line);
        assertTrue(Long.parseLong(m.group(2)) >= 0);
        return m.group(1) + " <energy>";
    }

    @Test
    void theOptInSetRendersFromTheDriversValues() throws Exception {
        FakeNvml.apply(baseScenario().line("""
                gpu.4.ecc_sbe_volatile = 7
                gpu.4.ecc_dbe_volatile = 2
                gpu.4.ecc_sbe_aggregate = 70
                gpu.4.ecc_dbe_aggregate = 20
                gpu.4.retired_sbe = 3
                gpu.4.retired_dbe = 1
                gpu.4.retired_pending = 1
                gpu.4.remap_pending = 1
                gpu.4.clock_event_reasons = 0x48
                gpu.4.pstate = 2
                gpu.4.pcie_gen = 4
                gpu.4.pcie_width = 8
                gpu.4.power_limit_mw = 650000
                gpu.4.nvlink.3.active = 0
                gpu.4.nvlink.5.crc_flit = 9
                driver_version = 565.57.01
                gpu.4.recovery_action = 1
                gpu.4.compute_processes = 4242:1024,4343:2048
                gpu.4.gpm.2 = 80
                """));
        Snapshot snap = twoSweeps(sampler(Duration.ofSeconds(1), Duration.ofMillis(800)));
        GpuSample g = snap.gpu(4).orElseThrow();
        assertEquals(7, g.valueOr(Reading.ECC_SBE_VOLATILE, -1));
        assertEquals(2, g.valueOr(Reading.ECC_DBE_VOLATILE, -1));
        assertEquals(70, g.valueOr(Reading.ECC_SBE_AGGREGATE, -1));
        assertEquals(20, g.valueOr(Reading.ECC_DBE_AGGREGATE, -1));
        assertEquals(3, g.valueOr(Reading.RETIRED_PAGES_SBE, -1));
        assertEquals(1, g.valueOr(Reading.RETIRED_PAGES_DBE, -1));
        assertEquals(1, g.valueOr(Reading.RETIRED_PAGES_PENDING, -1));
        assertEquals(1, g.valueOr(Reading.ROW_REMAP_PENDING, -1));
        assertEquals(0x48, g.clockEventReasons().orElseThrow());
        assertEquals(2, g.valueOr(Reading.PSTATE, -1));
        assertEquals(new io.gpuagent.nvml.PcieLink(4, 8, 5, 16), g.pcieLink().orElseThrow());
        assertEquals(650, g.valueOr(Reading.POWER_LIMIT_W, -1));
        assertEquals(700, g.valueOr(Reading.POWER_DEFAULT_LIMIT_W, -1));
        assertEquals(89, g.valueOr(Reading.SLOWDOWN_TEMP_C, -1));
        assertEquals(92, g.valueOr(Reading.SHUTDOWN_TEMP_C, -1));
        assertEquals(1980, g.valueOr(Reading.MAX_SM_CLOCK_MHZ, -1));
        assertEquals(io.gpuagent.nvml.RecoveryAction.GPU_RESET, g.recoveryAction().orElseThrow());
        assertEquals(3, g.valueOr(Reading.FABRIC_STATE, -1), "the fake's HGX fabric: probe completed");
        assertEquals(2, g.valueOr(Reading.FABRIC_HEALTH_MASK, -1), "degraded bandwidth: false");
        assertEquals(1, g.valueOr(Reading.FABRIC_HEALTH_SUMMARY, -1), "healthy");
        assertEquals(0.8, g.valueOr(Reading.SM_ACTIVE, -1), 1e-9);
        assertEquals(List.of(4242, 4343), g.processes().stream().map(io.gpuagent.nvml.ProcessInfo::pid).toList());
        assertEquals(2, g.valueOr(Reading.PROCESSES, -1));
        assertFalse(g.nvLinks().get(3).active());
        assertEquals(17, g.valueOr(Reading.NVLINK_LINKS, -1));
        assertEquals(9, g.nvLinks().get(5).crcFlit());
        assertEquals(9, g.valueOr(Reading.NVLINK_CRC_FLIT_ERRORS, -1));

        String text = new GpuMetricsWriter(CountersFile.all().metrics(), "hostname", "testhost", GpuDecorator.NONE)
                .renderText(snap);
        assertTrue(Pattern.compile("^DCGM_FI_DEV_ECC_DBE_VOL_TOTAL\\{gpu=\"4\",.*,DCGM_FI_DEV_SERIAL=\"[^\"]*\","
                + "DCGM_FI_DEV_VBIOS_VERSION=\"96.00.99.00.01\"\\} 2$", Pattern.MULTILINE).matcher(text).find(), text);
        assertTrue(text.contains(",hostname=\"testhost\","));
        Promtool.checkMetrics(text, Lint.DCGM_NAMES);
    }

    @Test
    void everyNameOfTheDcgmExporter410SetIsServedForEveryGpu() throws Exception {
        FakeNvml.apply(baseScenario());
        Snapshot snap = twoSweeps(sampler(Duration.ofSeconds(1), Duration.ofMillis(800)));
        List<MetricDef> set = CountersFile.bundled(DefaultSet.DCGM_EXPORTER_4_10).metrics();
        String text = new GpuMetricsWriter(set, "hostname", "testhost", GpuDecorator.NONE).renderText(snap);
        for (MetricDef m : set) {
            if (m.type() == MetricType.LABEL) {
                continue;
            }
            assertTrue(text.contains("# TYPE " + m.name() + " " + m.type().text() + "\n"), m.name() + " missing:\n" + text);
            for (int i = 0; i < 8; i++) {
                assertTrue(text.contains(m.name() + "{gpu=\"" + i + "\","), m.name() + " missing for GPU " + i);
            }
        }
        assertFalse(text.contains("DCGM_FI_DRIVER_VERSION="), "dcgm-exporter 4.9+ renamed the driver label");

        String labels0 = "{gpu=\"0\",UUID=\"" + UUID0 + "\",pci_bus_id=\"00000000:18:00.0\",device=\"nvidia0\","
                + "modelName=\"NVIDIA H100 80GB HBM3\",hostname=\"testhost\",DCGM_FI_SYSTEM_DRIVER_VERSION=\"550.54.15\"";
        List<String> gpu0 = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (line.contains("{gpu=\"0\",")) {
                gpu0.add(line.startsWith("DCGM_FI_DEV_GPU_ENERGY_JOULES_TOTAL{") ? joulesMasked(line) : line);
            }
        }
        long fbTotalMib = (long) snap.gpu(0).orElseThrow().valueOr(Reading.FB_TOTAL_MIB, -1);
        String expected = """
                DCGM_FI_DEV_SM_CLOCK_HERTZ%1$s} 1980000000
                DCGM_FI_DEV_MEMORY_CLOCK_HERTZ%1$s} 2619000000
                DCGM_FI_DEV_MEMORY_TEMP_CELSIUS%1$s} 30
                DCGM_FI_DEV_GPU_TEMP_CELSIUS%1$s} 40
                DCGM_FI_DEV_BOARD_POWER_WATTS%1$s} 100
                DCGM_FI_DEV_GPU_ENERGY_JOULES_TOTAL%1$s} <energy>
                DCGM_FI_DEV_PCIE_REPLAY_TOTAL%1$s} 0
                DCGM_FI_DEV_GPU_UTIL_RATIO%1$s} 0.1
                DCGM_FI_DEV_MEM_COPY_UTIL%1$s} 5
                DCGM_FI_DEV_ENC_UTIL%1$s} 1
                DCGM_FI_DEV_DEC_UTIL%1$s} 2
                DCGM_FI_DEV_XID_ERROR%1$s,err_code="0"} 0
                DCGM_FI_DEV_FB_CAPACITY_BYTES%1$s} %2$d
                DCGM_FI_DEV_FB_FREE%1$s} 80001
                DCGM_FI_DEV_FB_USED%1$s} 1024
                DCGM_FI_DEV_FB_RESERVED%1$s} 534
                DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL%1$s} 300
                DCGM_FI_DEV_ROW_REMAP_UNCORRECTABLE_TOTAL%1$s} 0
                DCGM_FI_DEV_ROW_REMAP_CORRECTABLE_TOTAL%1$s} 0
                DCGM_FI_DEV_ROW_REMAP_FAILED%1$s} 0
                DCGM_FI_PROF_GR_ENGINE_UTIL_RATIO%1$s} 0.5
                DCGM_FI_PROF_TENSOR_UTIL_RATIO%1$s} 0.25
                DCGM_FI_PROF_DRAM_UTIL_RATIO%1$s} 0.125
                DCGM_FI_PROF_PCIE_TX_BYTES_PER_SECOND%1$s} 1048576
                DCGM_FI_PROF_PCIE_RX_BYTES_PER_SECOND%1$s} 2097152
                """.formatted(labels0, fbTotalMib * 1024 * 1024);
        assertEquals(expected, String.join("\n", gpu0) + "\n");
        assertEquals(1024 + 80001 + 534, fbTotalMib, "the fake's 80 GiB board: used + free + reserved");
        Promtool.checkMetrics(text, Lint.DCGM_NAMES);
    }

    private static String joulesMasked(String line) {
        Matcher m = Pattern.compile("^(.*\\}) (\\d+(\\.\\d{1,3})?)$").matcher(line);
        assertTrue(m.matches(), "whole mJ in J: at most 3 decimals: " + line);
        return m.group(1) + " <energy>";
    }

    /** The value of {@code name}'s series for GPU {@code gpu} in {@code text}. */
    private static double value(String text, String name, int gpu) {
        Matcher m = Pattern.compile("^" + name + "\\{gpu=\"" + gpu + "\",[^}]*\\} (\\S+)$", Pattern.MULTILINE).matcher(text);
        assertTrue(m.find(), name + " for GPU " + gpu + " in:\n" + text);
        return Double.parseDouble(m.group(1));
    }

    @Test
    void dcgm47NamesCarryTheOlderNamesValuesInBaseUnitsInOneRender() throws Exception {
        Scenario scenario = baseScenario().all("gpm.60", 3.5);   // NVLink RX, MiB/s
        for (int i = 0; i < 8; i++) {
            scenario.gpu(i, "clock_video", 1500 + i).gpu(i, "energy_mj", 123456789L + 1001L * i);
        }
        FakeNvml.apply(scenario);
        Snapshot snap = twoSweeps(sampler(Duration.ofSeconds(1), Duration.ofMillis(800)));
        List<MetricDef> both = CountersFile.parse("both.csv", List.of(
                "DCGM_FI_DEV_SM_CLOCK, gauge, MHz", "DCGM_FI_DEV_SM_CLOCK_HERTZ, gauge, Hz",
                "DCGM_FI_DEV_MEM_CLOCK, gauge, MHz", "DCGM_FI_DEV_MEMORY_CLOCK_HERTZ, gauge, Hz",
                "DCGM_FI_DEV_VIDEO_CLOCK, gauge, MHz", "DCGM_FI_DEV_VIDEO_CLOCK_HERTZ, gauge, Hz",
                "DCGM_FI_DEV_MAX_SM_CLOCK, gauge, MHz", "DCGM_FI_DEV_SM_MAX_CLOCK_HERTZ, gauge, Hz",
                "DCGM_FI_DEV_MAX_MEM_CLOCK, gauge, MHz", "DCGM_FI_DEV_MEMORY_MAX_CLOCK_HERTZ, gauge, Hz",
                "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION, counter, mJ", "DCGM_FI_DEV_GPU_ENERGY_JOULES_TOTAL, counter, J",
                "DCGM_FI_DEV_GPU_UTIL, gauge, %", "DCGM_FI_DEV_GPU_UTIL_RATIO, gauge, ratio",
                "DCGM_FI_DEV_FB_TOTAL, gauge, MiB", "DCGM_FI_DEV_FB_CAPACITY_BYTES, gauge, bytes",
                "DCGM_FI_PROF_PCIE_TX_BYTES, gauge, B/s", "DCGM_FI_PROF_PCIE_TX_BYTES_PER_SECOND, gauge, B/s",
                "DCGM_FI_PROF_NVLINK_RX_BYTES, gauge, B/s", "DCGM_FI_PROF_NVLINK_RX_BYTES_PER_SECOND, gauge, B/s",
                "DCGM_FI_DEV_GPU_TEMP, gauge, C", "DCGM_FI_DEV_GPU_TEMP_CELSIUS, gauge, C")).metrics();
        String text = new GpuMetricsWriter(both, "Hostname", "testhost", GpuDecorator.NONE).renderText(snap);
        record Pair(String legacy, String canonical, double factor) {
        }
        List<Pair> pairs = List.of(new Pair("DCGM_FI_DEV_SM_CLOCK", "DCGM_FI_DEV_SM_CLOCK_HERTZ", 1e6),
                new Pair("DCGM_FI_DEV_MEM_CLOCK", "DCGM_FI_DEV_MEMORY_CLOCK_HERTZ", 1e6),
                new Pair("DCGM_FI_DEV_VIDEO_CLOCK", "DCGM_FI_DEV_VIDEO_CLOCK_HERTZ", 1e6),
                new Pair("DCGM_FI_DEV_MAX_SM_CLOCK", "DCGM_FI_DEV_SM_MAX_CLOCK_HERTZ", 1e6),
                new Pair("DCGM_FI_DEV_MAX_MEM_CLOCK", "DCGM_FI_DEV_MEMORY_MAX_CLOCK_HERTZ", 1e6),
                new Pair("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", "DCGM_FI_DEV_GPU_ENERGY_JOULES_TOTAL", 1e-3),
                new Pair("DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_GPU_UTIL_RATIO", 1e-2),
                new Pair("DCGM_FI_DEV_FB_TOTAL", "DCGM_FI_DEV_FB_CAPACITY_BYTES", 1024.0 * 1024.0),
                new Pair("DCGM_FI_PROF_PCIE_TX_BYTES", "DCGM_FI_PROF_PCIE_TX_BYTES_PER_SECOND", 1),
                new Pair("DCGM_FI_PROF_NVLINK_RX_BYTES", "DCGM_FI_PROF_NVLINK_RX_BYTES_PER_SECOND", 1),
                new Pair("DCGM_FI_DEV_GPU_TEMP", "DCGM_FI_DEV_GPU_TEMP_CELSIUS", 1));
        for (int i = 0; i < 8; i++) {
            for (Pair p : pairs) {
                double legacy = value(text, p.legacy(), i);
                double canonical = value(text, p.canonical(), i);
                assertEquals(legacy * p.factor(), canonical, Math.abs(legacy * p.factor()) * 1e-12,
                        p.canonical() + " = " + p.legacy() + " x " + p.factor() + " on GPU " + i);
            }
        }
        // the distinct values per GPU show that each pair reads the same GPU's reading
        assertEquals(1507e6, value(text, "DCGM_FI_DEV_VIDEO_CLOCK_HERTZ", 7));
        assertEquals(0.17, value(text, "DCGM_FI_DEV_GPU_UTIL_RATIO", 7));
        assertTrue(value(text, "DCGM_FI_DEV_GPU_ENERGY_JOULES_TOTAL", 3) >= 123459.792,
                "energy in J, from the fake's counter that only grows");
        Promtool.checkMetrics(text, Lint.DCGM_NAMES);
    }

    @Test
    void clockEventTotalsCountReasonsThatBeganAsDcgmExporterDoes() throws Exception {
        FakeNvml.apply(baseScenario().gpu(2, "clock_event_reasons", 0x4));   // power cap already on at the start
        List<MetricDef> family = List.of(MetricCatalog.byName("DCGM_EXP_CLOCK_EVENTS_TOTAL").orElseThrow());
        SamplerSettings settings = new SamplerSettings(Duration.ofSeconds(1), Duration.ofMillis(800),
                MetricCatalog.readingsFor(family), "testhost");
        sampler = new Sampler(NvmlSource.of(FakeNvml.shared()), settings, registry, Clock.systemUTC());
        GpuMetricsWriter writer = new GpuMetricsWriter(family, "Hostname", "testhost", GpuDecorator.NONE);
        Snapshot first = sampler.sweepNow();
        assertEquals("", writer.renderText(first), "the first read only sets the baseline: nothing began yet");
        assertEquals(0, first.gpu(2).orElseThrow().valueOr(Reading.CLOCK_EVENTS_POWER_CAP_TOTAL, -1));

        FakeNvml.apply(baseScenario().gpu(2, "clock_event_reasons", 0x4 | 0x8 | 0x40));   // + HW slowdown, HW thermal
        sampler.sweepNow();
        FakeNvml.apply(baseScenario().gpu(2, "clock_event_reasons", 0x8));   // thermal ends, slowdown goes on
        sampler.sweepNow();
        // GPU 5 sat idle (the fake's default 0x1) all along; sync boost begins on it now
        FakeNvml.apply(baseScenario().gpu(2, "clock_event_reasons", 0x8 | 0x40).gpu(5, "clock_event_reasons", 0x1 | 0x10));
        Snapshot last = sampler.sweepNow();

        String prefix = "{gpu=\"%d\",UUID=\"%s\",pci_bus_id=\"%s\",device=\"nvidia%1$d\",modelName=\"NVIDIA H100 80GB HBM3\","
                + "Hostname=\"testhost\",DCGM_FI_DRIVER_VERSION=\"550.54.15\"";
        GpuInfo g2 = last.gpu(2).orElseThrow().info();
        GpuInfo g5 = last.gpu(5).orElseThrow().info();
        String p2 = prefix.formatted(2, g2.uuid(), g2.pciBusId());
        String p5 = prefix.formatted(5, g5.uuid(), g5.pciBusId());
        assertEquals("""
                # HELP DCGM_EXP_CLOCK_EVENTS_TOTAL Total clock events observed since exporter start (edge-counted).
                # TYPE DCGM_EXP_CLOCK_EVENTS_TOTAL counter
                DCGM_EXP_CLOCK_EVENTS_TOTAL%1$s,clock_event="hw_slowdown"} 1
                DCGM_EXP_CLOCK_EVENTS_TOTAL%1$s,clock_event="hw_thermal"} 2
                DCGM_EXP_CLOCK_EVENTS_TOTAL%2$s,clock_event="sync_boost"} 1
                """.formatted(p2, p5), writer.renderText(last), "power cap on from the start, idle all along: never counted");
        Promtool.checkMetrics(writer.renderText(last), Lint.DCGM_NAMES);
    }

    @Test
    void rewritingTheScenarioShowsWithinTwoIntervals() throws Exception {
        FakeNvml.apply(baseScenario());
        Sampler s = sampler(Duration.ofMillis(200), Duration.ofMillis(150));
        s.start();
        waitFor(s, snap -> snap.gpu(1).map(g -> g.valueOr(Reading.GPU_TEMP_C, -1) == 41).orElse(false), 10);
        FakeNvml.apply(baseScenario().temp(1, 77));
        // the fake answers 77 once apply returns: two intervals more at most
        Instant changed = Instant.now();
        waitFor(s, snap -> snap.gpu(1).map(g -> g.valueOr(Reading.GPU_TEMP_C, -1) == 77).orElse(false), 10);
        assertTrue(Duration.between(changed, Instant.now()).toMillis() < 2000,
                "new value later than two intervals (+ generous slack)");
    }

    @Test
    void aLostGpuDisappearsWhileTheOthersKeepReporting() throws Exception {
        FakeNvml.apply(baseScenario());
        Sampler s = sampler(Duration.ofSeconds(1), Duration.ofMillis(800));
        s.sweepNow();
        FakeNvml.apply(baseScenario().lost(3));
        Snapshot snap = s.sweepNow();
        assertEquals(GpuStatus.LOST, snap.gpu(3).orElseThrow().status());
        for (int i = 0; i < 8; i++) {
            if (i != 3) {
                assertEquals(GpuStatus.OK, snap.gpu(i).orElseThrow().status(), "GPU " + i);
            }
        }
        String text = new GpuMetricsWriter(MetricCatalog.defaultSet(), "Hostname", "testhost", GpuDecorator.NONE)
                .renderText(snap);
        assertFalse(text.contains("{gpu=\"3\","), "no series for the lost GPU");
        for (int i = 0; i < 8; i++) {
            if (i != 3) {
                assertTrue(text.contains("DCGM_FI_DEV_GPU_TEMP{gpu=\"" + i + "\","), "GPU " + i + " still reports");
            }
        }
        assertTrue(registry.find(AgentMeters.NVML_ERRORS).tag("code", "GPU_IS_LOST").counters().size() >= 1);
    }

    @Test
    void aHungCallMakesThatGpuStaleNotTheScrape() throws Exception {
        FakeNvml.apply(baseScenario());
        Sampler s = sampler(Duration.ofMillis(200), Duration.ofMillis(100));
        s.start();
        waitFor(s, snap -> snap.gpus().size() == 8 && snap.gpus(GpuStatus.OK).size() == 8, 10);
        FakeNvml.apply(baseScenario().latency(2, "nvmlDeviceGetTemperature", 3000)
                .latency(2, "nvmlDeviceGetTemperatureV", 3000));
        Snapshot stale = waitFor(s, snap -> snap.gpu(2).map(g -> g.status() == GpuStatus.STALE).orElse(false)
                && snap.age(Instant.now()).toMillis() >= 1000, 10);
        for (int i = 0; i < 8; i++) {
            if (i != 2) {
                GpuSample g = stale.gpu(i).orElseThrow();
                assertEquals(GpuStatus.OK, g.status(), "GPU " + i);
                assertTrue(Duration.between(g.readAt(), Instant.now()).toMillis() < 1000, "GPU " + i + " is fresh");
            }
        }
        GpuSample g2 = stale.gpu(2).orElseThrow();
        assertTrue(g2.statusReason().contains("nvmlDeviceGetTemperatureV"), g2.statusReason());
        assertEquals(42, g2.valueOr(Reading.GPU_TEMP_C, -1), "previous values kept");
        long t0 = System.nanoTime();
        for (int i = 0; i < 100; i++) {
            s.latest();
        }
        assertTrue(System.nanoTime() - t0 < 50_000_000L, "latest() does not wait for NVML");
        FakeNvml.apply(baseScenario());
        waitFor(s, snap -> snap.gpus(GpuStatus.OK).size() == 8, 15);
    }

    @Test
    void notSupportedReadingsAreAbsent() throws Exception {
        FakeNvml.apply(baseScenario().unsupported(1, "nvmlDeviceGetClockInfo").gpu(1, "gpm_supported", 0));
        Snapshot snap = twoSweeps(sampler(Duration.ofSeconds(1), Duration.ofMillis(800)));
        GpuSample g1 = snap.gpu(1).orElseThrow();
        assertEquals(GpuStatus.OK, g1.status());
        assertFalse(g1.has(Reading.SM_CLOCK_MHZ));
        assertFalse(g1.has(Reading.MEM_CLOCK_MHZ));
        assertFalse(g1.has(Reading.GR_ENGINE_ACTIVE));
        assertFalse(g1.has(Reading.FAN_SPEED_PCT), "SXM: no fans");
        assertTrue(g1.has(Reading.GPU_TEMP_C));
        assertTrue(snap.gpu(0).orElseThrow().has(Reading.SM_CLOCK_MHZ));
        assertTrue(snap.gpu(0).orElseThrow().has(Reading.GR_ENGINE_ACTIVE));
        String text = new GpuMetricsWriter(MetricCatalog.defaultSet(), "Hostname", "testhost", GpuDecorator.NONE)
                .renderText(snap);
        assertFalse(text.contains("DCGM_FI_DEV_SM_CLOCK{gpu=\"1\","));
        assertFalse(text.contains("DCGM_FI_PROF_GR_ENGINE_ACTIVE{gpu=\"1\","));
        assertTrue(registry.find(AgentMeters.NVML_ERRORS).tag("code", "NOT_SUPPORTED").counters().isEmpty());
    }

    @Test
    void agentSeriesPassPromtool() throws Exception {
        FakeNvml.apply(baseScenario());
        var prom = new io.micrometer.prometheus.PrometheusMeterRegistry(io.micrometer.prometheus.PrometheusConfig.DEFAULT);
        try (Sampler s = new Sampler(NvmlSource.of(FakeNvml.shared()),
                new SamplerSettings(Duration.ofSeconds(1), Duration.ofMillis(800), Set.of(), "testhost"), prom,
                Clock.systemUTC())) {
            s.sweepNow();
            Promtool.checkMetrics(prom.scrape(), Lint.NONE);
        }
    }

    static Snapshot waitFor(Sampler s, Predicate<Snapshot> condition, int seconds) throws InterruptedException {
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        while (System.nanoTime() < end) {
            Snapshot snap = s.latest();
            if (condition.test(snap)) {
                return snap;
            }
            Thread.sleep(20);
        }
        fail("condition not met within " + seconds + " s; last snapshot: " + s.latest());
        return null;
    }
}
