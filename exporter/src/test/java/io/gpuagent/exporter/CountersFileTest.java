package io.gpuagent.exporter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CountersFileTest {

    @Test
    void parsesDcgmExporterFormat(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("counters.csv");
        Files.writeString(file, """
                # Format,,
                # If line starts with a '#' it is considered a comment,,
                # DCGM FIELD, Prometheus metric type, help message

                # Clocks,,
                DCGM_FI_DEV_SM_CLOCK,  gauge, SM clock frequency (in MHz).
                DCGM_FI_DEV_DEC_UTIL ,     gauge, Decoder utilization (in %).
                DCGM_FI_DEV_PCIE_REPLAY_COUNTER, counter, Total number of PCIe retries.
                DCGM_FI_DEV_GPU_TEMP_CELSIUS, gauge, "GPU temperature, in C."
                DCGM_FI_DRIVER_VERSION,        label, Driver Version
                """);
        CountersFile c = CountersFile.parse(file);
        assertEquals(List.of("DCGM_FI_DEV_SM_CLOCK", "DCGM_FI_DEV_DEC_UTIL", "DCGM_FI_DEV_PCIE_REPLAY_COUNTER",
                "DCGM_FI_DEV_GPU_TEMP_CELSIUS", "DCGM_FI_DRIVER_VERSION"), c.metrics().stream().map(MetricDef::name).toList());
        MetricDef alias = c.metrics().get(3);
        assertEquals(Reading.GPU_TEMP_C, alias.source(), "DCGM 4.x alias resolves by field id");
        assertEquals("GPU temperature, in C.", alias.help());
        assertEquals(MetricType.COUNTER, c.metrics().get(2).type());
        assertTrue(c.skipped().isEmpty());
    }

    @Test
    void dcgmOnlyFieldsAreSkippedAndListed() {
        CountersFile c = CountersFile.parse("test.csv", List.of(
                "DCGM_FI_DEV_GPU_TEMP, gauge, GPU temperature (in C).",
                "DCGM_FI_DEV_VGPU_LICENSE_STATUS, gauge, vGPU License status",
                "DCGM_FI_DEV_PCIE_TX_THROUGHPUT,  counter, Total number of bytes transmitted through PCIe TX (in KB) via NVML.",
                "DCGM_FI_DEV_NVML_INDEX, gauge, index"));
        assertEquals(1, c.metrics().size());
        assertEquals(List.of("DCGM_FI_DEV_VGPU_LICENSE_STATUS (line 2)", "DCGM_FI_DEV_PCIE_TX_THROUGHPUT (line 3)",
                "DCGM_FI_DEV_NVML_INDEX (line 4)"), c.skipped());
    }

    @Test
    void unknownNameIsAnErrorNamingFileAndLine() {
        CountersFileException e = assertThrows(CountersFileException.class, () -> CountersFile.parse("my.csv", List.of(
                "# comment", "DCGM_FI_DEV_GPU_TEMP, gauge, t", "DCGM_FI_DEV_GPU_TEMPERATURE, gauge, typo")));
        assertEquals(3, e.line());
        assertTrue(e.getMessage().startsWith("my.csv:3: unknown field DCGM_FI_DEV_GPU_TEMPERATURE"), e.getMessage());
    }

    @Test
    void malformedLineIsAnError() {
        CountersFileException e = assertThrows(CountersFileException.class,
                () -> CountersFile.parse("my.csv", List.of("", "DCGM_FI_DEV_GPU_TEMP gauge GPU temperature")));
        assertEquals(2, e.line());
        assertTrue(e.getMessage().contains("malformed line"), e.getMessage());
    }

    @Test
    void wrongTypesAreErrors() {
        CountersFileException unknown = assertThrows(CountersFileException.class,
                () -> CountersFile.parse("f", List.of("DCGM_FI_DEV_GPU_TEMP, gauges, t")));
        assertTrue(unknown.getMessage().startsWith("f:1: unknown type 'gauges'"), unknown.getMessage());
        CountersFileException histogram = assertThrows(CountersFileException.class,
                () -> CountersFile.parse("f", List.of("DCGM_FI_DEV_GPU_TEMP, histogram, t")));
        assertTrue(histogram.getMessage().contains("not supported"), histogram.getMessage());
        CountersFileException label = assertThrows(CountersFileException.class,
                () -> CountersFile.parse("f", List.of("# x", "DCGM_FI_DEV_GPU_TEMP, label, t")));
        assertEquals(2, label.line());
        CountersFileException dup = assertThrows(CountersFileException.class,
                () -> CountersFile.parse("f", List.of("DCGM_FI_DEV_GPU_TEMP, gauge, t", "DCGM_FI_DEV_GPU_TEMP, gauge, t")));
        assertTrue(dup.getMessage().contains("twice"));
    }

    @Test
    void unreadableFileIsAnErrorNamingIt(@TempDir Path dir) {
        Path missing = dir.resolve("nope.csv");
        CountersFileException e = assertThrows(CountersFileException.class, () -> CountersFile.parse(missing));
        assertTrue(e.getMessage().startsWith(missing.toString()), e.getMessage());
    }

    @Test
    void bundledFilesMatchTheCatalog() {
        assertEquals(MetricCatalog.defaultSet(), CountersFile.defaults().metrics());
        assertEquals(MetricCatalog.all().stream().map(MetricDef::name).sorted().toList(),
                CountersFile.all().metrics().stream().map(MetricDef::name).sorted().toList());
        assertEquals(MetricCatalog.all().size(), CountersFile.all().metrics().size());
        for (MetricDef m : CountersFile.all().metrics()) {
            MetricDef c = MetricCatalog.byName(m.name()).orElseThrow();
            assertEquals(c, m, "bundled file and catalog agree on " + m.name());
        }
    }

    @Test
    void everyCatalogNameIsADcgmFieldButTheOnesOnlyReleaseNotesAndDcgmExporterName() {
        // dcgm-exporter 4.9.0/4.10.0's release notes name these fields but no DCGM header read here has them;
        // the DCGM_EXP_ families are dcgm-exporter's own (docs/metrics.md, "Two generations of names").
        Set<String> notInDcgmHeaders = Set.of("DCGM_FI_DEV_FB_CAPACITY_BYTES", "DCGM_FI_PROF_PCIE_TX_BYTES_PER_SECOND",
                "DCGM_FI_PROF_PCIE_RX_BYTES_PER_SECOND", "DCGM_FI_PROF_NVLINK_TX_BYTES_PER_SECOND",
                "DCGM_FI_PROF_NVLINK_RX_BYTES_PER_SECOND", "DCGM_EXP_XID_ERRORS_TOTAL", "DCGM_EXP_CLOCK_EVENTS_TOTAL");
        for (MetricDef m : MetricCatalog.all()) {
            assertEquals(!notInDcgmHeaders.contains(m.name()), MetricCatalog.isDcgmField(m.name()), m.name());
        }
    }

    @Test
    void dcgm47BaseUnitNamesHaveTheirOwnEntriesOnTheOlderNamesReadings() {
        record Pair(String legacy, String canonical, UnitScale scale) {
        }
        List<Pair> pairs = List.of(new Pair("DCGM_FI_DEV_SM_CLOCK", "DCGM_FI_DEV_SM_CLOCK_HERTZ", UnitScale.MEGAHERTZ_TO_HERTZ),
                new Pair("DCGM_FI_DEV_MEM_CLOCK", "DCGM_FI_DEV_MEMORY_CLOCK_HERTZ", UnitScale.MEGAHERTZ_TO_HERTZ),
                new Pair("DCGM_FI_DEV_VIDEO_CLOCK", "DCGM_FI_DEV_VIDEO_CLOCK_HERTZ", UnitScale.MEGAHERTZ_TO_HERTZ),
                new Pair("DCGM_FI_DEV_MAX_SM_CLOCK", "DCGM_FI_DEV_SM_MAX_CLOCK_HERTZ", UnitScale.MEGAHERTZ_TO_HERTZ),
                new Pair("DCGM_FI_DEV_MAX_MEM_CLOCK", "DCGM_FI_DEV_MEMORY_MAX_CLOCK_HERTZ", UnitScale.MEGAHERTZ_TO_HERTZ),
                new Pair("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", "DCGM_FI_DEV_GPU_ENERGY_JOULES_TOTAL",
                        UnitScale.MILLIJOULES_TO_JOULES),
                new Pair("DCGM_FI_DEV_FAN_SPEED", "DCGM_FI_DEV_FAN_SPEED_RATIO", UnitScale.PERCENT_TO_RATIO),
                new Pair("DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_GPU_UTIL_RATIO", UnitScale.PERCENT_TO_RATIO),
                new Pair("DCGM_FI_DEV_FB_TOTAL", "DCGM_FI_DEV_FB_CAPACITY_BYTES", UnitScale.MEBIBYTES_TO_BYTES),
                // same unit: renamed in place (DCGM aliases) or renamed by dcgm-exporter 4.10
                new Pair("DCGM_FI_DEV_GPU_TEMP", "DCGM_FI_DEV_GPU_TEMP_CELSIUS", UnitScale.NONE),
                new Pair("DCGM_FI_DEV_MEMORY_TEMP", "DCGM_FI_DEV_MEMORY_TEMP_CELSIUS", UnitScale.NONE),
                new Pair("DCGM_FI_DEV_POWER_USAGE", "DCGM_FI_DEV_BOARD_POWER_WATTS", UnitScale.NONE),
                new Pair("DCGM_FI_DEV_PCIE_REPLAY_COUNTER", "DCGM_FI_DEV_PCIE_REPLAY_TOTAL", UnitScale.NONE),
                new Pair("DCGM_FI_DEV_ROW_REMAP_FAILURE", "DCGM_FI_DEV_ROW_REMAP_FAILED", UnitScale.NONE),
                new Pair("DCGM_FI_PROF_GR_ENGINE_ACTIVE", "DCGM_FI_PROF_GR_ENGINE_UTIL_RATIO", UnitScale.NONE),
                new Pair("DCGM_FI_PROF_PCIE_TX_BYTES", "DCGM_FI_PROF_PCIE_TX_BYTES_PER_SECOND", UnitScale.NONE),
                new Pair("DCGM_FI_PROF_PCIE_RX_BYTES", "DCGM_FI_PROF_PCIE_RX_BYTES_PER_SECOND", UnitScale.NONE),
                new Pair("DCGM_FI_PROF_NVLINK_TX_BYTES", "DCGM_FI_PROF_NVLINK_TX_BYTES_PER_SECOND", UnitScale.NONE),
                new Pair("DCGM_FI_PROF_NVLINK_RX_BYTES", "DCGM_FI_PROF_NVLINK_RX_BYTES_PER_SECOND", UnitScale.NONE));
        for (Pair p : pairs) {
            MetricDef legacy = MetricCatalog.byName(p.legacy()).orElseThrow();
            MetricDef canonical = MetricCatalog.byName(p.canonical()).orElseThrow();
            assertEquals(p.canonical(), canonical.name());
            assertEquals(legacy.source(), canonical.source(), p.canonical() + " renders the older name's reading");
            assertEquals(UnitScale.NONE, legacy.scale(), p.legacy() + " stays in its unit");
            assertEquals(p.scale(), canonical.scale(), p.canonical());
            assertEquals(legacy.type(), canonical.type(), p.canonical());
        }
    }

    @Test
    void everyOlderNameKeepsItsReadingAndUnit() {
        for (MetricDef m : MetricCatalog.defaultSet()) {
            assertEquals(UnitScale.NONE, m.scale(), m.name());
        }
        CountersFile c = CountersFile.parse("aliases.csv", List.of("DCGM_FI_DEV_XID_ERROR, gauge, last XID",
                "DCGM_FI_DEV_GPU_UTIL, gauge, util"));
        assertTrue(c.metrics().get(0).isXid(), "DCGM 4.6's name of field 230 is the XID gauge too");
        assertEquals(Reading.GPU_UTIL_PCT, c.metrics().get(1).source());
    }

    @Test
    void dcgmOnlyBaseUnitFieldsAndDcgmExporterOwnOtherFamiliesAreSkippedNotErrors() {
        CountersFile c = CountersFile.parse("new.csv", List.of(
                "DCGM_FI_DEV_SM_APP_CLOCK_HERTZ, gauge, application clock",
                "DCGM_FI_DEV_BAR1_USED_BYTES, gauge, BAR1",
                "DCGM_EXP_XID_ERRORS_COUNT, gauge, xids in a window",
                "DCGM_EXP_XID_ERRORS_TOTAL, counter, xids"));
        assertEquals(List.of("DCGM_EXP_XID_ERRORS_TOTAL"), c.metrics().stream().map(MetricDef::name).toList());
        assertEquals(List.of("DCGM_FI_DEV_SM_APP_CLOCK_HERTZ (line 1)", "DCGM_FI_DEV_BAR1_USED_BYTES (line 2)",
                "DCGM_EXP_XID_ERRORS_COUNT (line 3)"), c.skipped());
        assertEquals(Set.of(Reading.CLOCK_EVENT_REASONS, Reading.CLOCK_EVENTS_GPU_IDLE_TOTAL,
                        Reading.CLOCK_EVENTS_CLOCKS_SETTING_TOTAL, Reading.CLOCK_EVENTS_POWER_CAP_TOTAL,
                        Reading.CLOCK_EVENTS_HW_SLOWDOWN_TOTAL, Reading.CLOCK_EVENTS_SYNC_BOOST_TOTAL,
                        Reading.CLOCK_EVENTS_SW_THERMAL_TOTAL, Reading.CLOCK_EVENTS_HW_THERMAL_TOTAL,
                        Reading.CLOCK_EVENTS_HW_POWER_BRAKE_TOTAL, Reading.CLOCK_EVENTS_DISPLAY_CLOCKS_TOTAL),
                MetricCatalog.readingsFor(List.of(MetricCatalog.byName("DCGM_EXP_CLOCK_EVENTS_TOTAL").orElseThrow())),
                "clock-event totals need the reasons and count into their own readings");
    }

    @Test
    void aMisspeltNameIsAnErrorThatNamesTheNearestKnownOne() {
        CountersFileException hertz = assertThrows(CountersFileException.class, () -> CountersFile.parse("my.csv",
                List.of("DCGM_FI_DEV_SM_CLOCK_HERZ, gauge, typo")));
        assertEquals("my.csv:1: unknown field DCGM_FI_DEV_SM_CLOCK_HERZ: not a DCGM field name (DCGM_FI_...) or "
                + "dcgm-exporter family (DCGM_EXP_...) that gpu-agent knows; did you mean DCGM_FI_DEV_SM_CLOCK_HERTZ? "
                + "See docs/metrics.md for the list", hertz.getMessage());
        CountersFileException exp = assertThrows(CountersFileException.class, () -> CountersFile.parse("my.csv",
                List.of("DCGM_EXP_XID_ERROR_TOTAL, counter, typo")));
        assertTrue(exp.getMessage().contains("did you mean DCGM_EXP_XID_ERRORS_TOTAL?"), exp.getMessage());
        CountersFileException far = assertThrows(CountersFileException.class, () -> CountersFile.parse("my.csv",
                List.of("GPU_TEMPERATURE_OF_THE_DEVICE, gauge, nothing near")));
        assertFalse(far.getMessage().contains("did you mean"), far.getMessage());
    }

    @Test
    void theDcgmExporter410SetParsesWithoutSkipsAndNamesTheDriverLabelAsDcgmExporter49Does() {
        CountersFile c = CountersFile.bundled(DefaultSet.DCGM_EXPORTER_4_10);
        assertTrue(c.skipped().isEmpty(), c.skipped().toString());
        List<String> names = c.metrics().stream().map(MetricDef::name).toList();
        assertEquals(List.of("DCGM_FI_DEV_SM_CLOCK_HERTZ", "DCGM_FI_DEV_MEMORY_CLOCK_HERTZ",
                "DCGM_FI_DEV_MEMORY_TEMP_CELSIUS", "DCGM_FI_DEV_GPU_TEMP_CELSIUS", "DCGM_FI_DEV_BOARD_POWER_WATTS",
                "DCGM_FI_DEV_GPU_ENERGY_JOULES_TOTAL", "DCGM_FI_DEV_PCIE_REPLAY_TOTAL", "DCGM_FI_DEV_GPU_UTIL_RATIO",
                "DCGM_FI_DEV_MEM_COPY_UTIL", "DCGM_FI_DEV_ENC_UTIL", "DCGM_FI_DEV_DEC_UTIL", "DCGM_FI_DEV_XID_ERROR",
                "DCGM_FI_DEV_FB_CAPACITY_BYTES", "DCGM_FI_DEV_FB_FREE", "DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_FB_RESERVED",
                "DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL", "DCGM_FI_DEV_ROW_REMAP_UNCORRECTABLE_TOTAL",
                "DCGM_FI_DEV_ROW_REMAP_CORRECTABLE_TOTAL", "DCGM_FI_DEV_ROW_REMAP_FAILED",
                "DCGM_FI_SYSTEM_DRIVER_VERSION", "DCGM_FI_PROF_GR_ENGINE_UTIL_RATIO", "DCGM_FI_PROF_TENSOR_UTIL_RATIO",
                "DCGM_FI_PROF_DRAM_UTIL_RATIO", "DCGM_FI_PROF_PCIE_TX_BYTES_PER_SECOND",
                "DCGM_FI_PROF_PCIE_RX_BYTES_PER_SECOND"), names);
        assertEquals(MetricType.LABEL, c.metrics().get(names.indexOf("DCGM_FI_SYSTEM_DRIVER_VERSION")).type());
        // with what the sampler always reads (the agent's health readings), the same readings as the legacy set:
        // switching costs no NVML call
        java.util.EnumSet<Reading> legacy = java.util.EnumSet.copyOf(MetricCatalog.readingsFor(CountersFile.defaults().metrics()));
        legacy.addAll(Reading.health());
        java.util.EnumSet<Reading> dcgm410 = java.util.EnumSet.copyOf(MetricCatalog.readingsFor(c.metrics()));
        dcgm410.addAll(Reading.health());
        assertEquals(legacy, dcgm410);
    }

    @Test
    void defaultSetsAreNamedAsConfiguredAndAnUnknownOneSaysWhichExist() {
        assertEquals(DefaultSet.LEGACY, DefaultSet.of("legacy"));
        assertEquals(DefaultSet.DCGM_EXPORTER_4_10, DefaultSet.of(" DCGM-Exporter-4.10 "));
        assertEquals(CountersFile.defaults().metrics(), CountersFile.bundled(DefaultSet.LEGACY).metrics());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DefaultSet.of("4.10"));
        assertEquals("unknown default metric set '4.10'; use one of legacy, dcgm-exporter-4.10", e.getMessage());
    }
}
