package io.gpuagent.exporter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.nvml.PciInfo;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class GpuMetricsWriterTest {
    private static final Instant T = Instant.parse("2025-01-01T00:00:00Z");

    static GpuInfo info(int i) {
        return new GpuInfo(i, "GPU-" + i, "NVIDIA H100 80GB HBM3", "00000000:1" + i + ":00.0", i, "SN" + i, "96.00",
                new PciInfo("0000:1" + i + ":00.0", 0, 0x10 + i, 0, 0, 0, "00000000:1" + i + ":00.0"));
    }

    static Snapshot snapshot(GpuSample... gpus) {
        return new Snapshot(7, T, true, null, "550.54.15", gpus.length, List.of(gpus));
    }

    @Test
    void rendersExactDcgmExporterText() {
        GpuSample g0 = GpuSample.builder(info(0)).readAt(T).set(Reading.GPU_TEMP_C, 45)
                .set(Reading.TOTAL_ENERGY_MJ, 123456789).set(Reading.POWER_USAGE_W, 70.5).build();
        List<MetricDef> metrics = List.of(MetricCatalog.byName("DCGM_FI_DEV_GPU_TEMP").orElseThrow(),
                MetricCatalog.byName("DCGM_FI_DEV_POWER_USAGE").orElseThrow(),
                MetricCatalog.byName("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION").orElseThrow(),
                MetricCatalog.byName("DCGM_FI_DEV_SM_CLOCK").orElseThrow());
        GpuMetricsWriter w = new GpuMetricsWriter(metrics, "Hostname", "node1", GpuDecorator.NONE);
        String labels = "{gpu=\"0\",UUID=\"GPU-0\",pci_bus_id=\"00000000:10:00.0\",device=\"nvidia0\","
                + "modelName=\"NVIDIA H100 80GB HBM3\",Hostname=\"node1\",DCGM_FI_DRIVER_VERSION=\"550.54.15\"}";
        assertEquals("""
                # HELP DCGM_FI_DEV_GPU_TEMP GPU temperature (in C).
                # TYPE DCGM_FI_DEV_GPU_TEMP gauge
                DCGM_FI_DEV_GPU_TEMP%1$s 45
                # HELP DCGM_FI_DEV_POWER_USAGE Power draw (in W).
                # TYPE DCGM_FI_DEV_POWER_USAGE gauge
                DCGM_FI_DEV_POWER_USAGE%1$s 70.5
                # HELP DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION Total energy consumption since boot (in mJ).
                # TYPE DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION counter
                DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION%1$s 123456789
                """.formatted(labels), w.renderText(snapshot(g0)));
    }

    @Test
    void lostAndUnidentifiedGpusHaveNoSeriesStaleOnesKeepTheirs() {
        GpuSample ok = GpuSample.builder(info(0)).readAt(T).set(Reading.GPU_TEMP_C, 40).build();
        GpuSample stale = GpuSample.builder(info(1)).readAt(T).set(Reading.GPU_TEMP_C, 41).build()
                .withStatus(GpuStatus.STALE, "hung");
        GpuSample lost = GpuSample.builder(info(2)).readAt(T).set(Reading.GPU_TEMP_C, 42).build()
                .withStatus(GpuStatus.LOST, "GPU_IS_LOST");
        GpuSample unknown = GpuSample.unread(GpuInfo.unknown(3), GpuStatus.STALE, "first read hung", T);
        GpuMetricsWriter w = new GpuMetricsWriter(MetricCatalog.defaultSet(), "Hostname", "n", GpuDecorator.NONE);
        String text = w.renderText(snapshot(ok, stale, lost, unknown));
        assertTrue(text.contains("DCGM_FI_DEV_GPU_TEMP{gpu=\"0\""));
        assertTrue(text.contains("DCGM_FI_DEV_GPU_TEMP{gpu=\"1\""));
        assertFalse(text.contains("gpu=\"2\""), text);
        assertFalse(text.contains("gpu=\"3\""), text);
        assertFalse(text.contains("DCGM_FI_DEV_SM_CLOCK"), "a metric without values is left out");
    }

    @Test
    void decoratorAddsLabelsAndXidsAndInvalidatesTheCache() {
        AtomicLong version = new AtomicLong();
        Map<Integer, Integer> xids = new java.util.concurrent.ConcurrentHashMap<>();
        GpuDecorator deco = new GpuDecorator() {
            @Override
            public long version() {
                return version.get();
            }

            @Override
            public Map<String, String> extraLabels(GpuInfo gpu) {
                Map<String, String> m = new LinkedHashMap<>();
                if (gpu.index() == 1) {
                    m.put("hpc_job", "job \"42\"\\x");
                }
                return m;
            }

            @Override
            public OptionalInt lastXid(GpuInfo gpu) {
                Integer x = xids.get(gpu.index());
                return x == null ? OptionalInt.empty() : OptionalInt.of(x);
            }
        };
        List<MetricDef> metrics = List.of(MetricCatalog.byName("DCGM_FI_DEV_XID_ERRORS").orElseThrow(),
                MetricCatalog.byName("DCGM_FI_DEV_SERIAL").orElseThrow());
        GpuMetricsWriter w = new GpuMetricsWriter(metrics, "hostname", "n", deco);
        Snapshot s = snapshot(GpuSample.builder(info(0)).readAt(T).build(), GpuSample.builder(info(1)).readAt(T).build());
        byte[] first = w.render(s);
        assertSame(first, w.render(s), "same snapshot and version: cached bytes");
        String text = new String(first, java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(text.contains("DCGM_FI_DEV_XID_ERRORS{gpu=\"0\",UUID=\"GPU-0\",pci_bus_id=\"00000000:10:00.0\","
                + "device=\"nvidia0\",modelName=\"NVIDIA H100 80GB HBM3\",hostname=\"n\",DCGM_FI_DRIVER_VERSION=\"550.54.15\","
                + "DCGM_FI_DEV_SERIAL=\"SN0\",err_code=\"0\"} 0\n"), text);
        assertTrue(text.contains(",DCGM_FI_DEV_SERIAL=\"SN1\",hpc_job=\"job \\\"42\\\"\\\\x\",err_code=\"0\"} 0\n"), text);
        xids.put(1, 79);
        version.incrementAndGet();
        String after = w.renderText(s);
        assertTrue(after.contains(",hpc_job=\"job \\\"42\\\"\\\\x\",err_code=\"79\"} 79\n"), after);
    }

    @Test
    void onlyKnownHostLabels() {
        assertThrows(IllegalArgumentException.class,
                () -> new GpuMetricsWriter(List.of(), "host", "n", GpuDecorator.NONE));
    }

    @Test
    void valuesFormat() {
        StringBuilder sb = new StringBuilder();
        GpuMetricsWriter.appendValue(sb, 0.37);
        sb.append(' ');
        GpuMetricsWriter.appendValue(sb, 1024 * 1024.0);
        sb.append(' ');
        GpuMetricsWriter.appendValue(sb, 1e20);
        assertEquals("0.37 1048576 1.0E20", sb.toString());
    }
}
