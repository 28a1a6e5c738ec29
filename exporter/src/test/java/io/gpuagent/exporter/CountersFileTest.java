package io.gpuagent.exporter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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
    void everyCatalogNameIsADcgmField() {
        for (MetricDef m : MetricCatalog.all()) {
            assertTrue(MetricCatalog.isDcgmField(m.name()), m.name());
        }
    }
}
