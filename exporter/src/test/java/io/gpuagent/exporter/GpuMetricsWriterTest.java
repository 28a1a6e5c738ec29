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

    @Test
    void dcgm47NamesRenderTheSameReadingsInBaseUnitsNextToTheOlderNames() {
        GpuSample g0 = GpuSample.builder(info(0)).readAt(T).set(Reading.SM_CLOCK_MHZ, 1980)
                .set(Reading.TOTAL_ENERGY_MJ, 123456789).set(Reading.GPU_UTIL_PCT, 37).set(Reading.FAN_SPEED_PCT, 105)
                .set(Reading.FB_TOTAL_MIB, 81559).set(Reading.GPU_TEMP_C, 45).build();
        CountersFile file = CountersFile.parse("both.csv", List.of(
                "DCGM_FI_DEV_SM_CLOCK, gauge, SM clock frequency (in MHz).",
                "DCGM_FI_DEV_SM_CLOCK_HERTZ, gauge, SM clock frequency (in Hz).",
                "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION, counter, Total energy (in mJ).",
                "DCGM_FI_DEV_GPU_ENERGY_JOULES_TOTAL, counter, Total energy (in J).",
                "DCGM_FI_DEV_GPU_UTIL, gauge, GPU utilization (in %).",
                "DCGM_FI_DEV_GPU_UTIL_RATIO, gauge, GPU utilization (ratio).",
                "DCGM_FI_DEV_FAN_SPEED_RATIO, gauge, Fan speed (ratio).",
                "DCGM_FI_DEV_FB_TOTAL, gauge, Framebuffer memory total (in MiB).",
                "DCGM_FI_DEV_FB_CAPACITY_BYTES, gauge, Total GPU memory (in bytes).",
                "DCGM_FI_DEV_GPU_TEMP_CELSIUS, gauge, GPU temperature (in C).",
                "DCGM_FI_SYSTEM_DRIVER_VERSION, label, Driver Version"));
        GpuMetricsWriter w = new GpuMetricsWriter(file.metrics(), "hostname", "node1", GpuDecorator.NONE);
        String labels = "{gpu=\"0\",UUID=\"GPU-0\",pci_bus_id=\"00000000:10:00.0\",device=\"nvidia0\","
                + "modelName=\"NVIDIA H100 80GB HBM3\",hostname=\"node1\",DCGM_FI_SYSTEM_DRIVER_VERSION=\"550.54.15\"}";
        assertEquals("""
                # HELP DCGM_FI_DEV_SM_CLOCK SM clock frequency (in MHz).
                # TYPE DCGM_FI_DEV_SM_CLOCK gauge
                DCGM_FI_DEV_SM_CLOCK%1$s 1980
                # HELP DCGM_FI_DEV_SM_CLOCK_HERTZ SM clock frequency (in Hz).
                # TYPE DCGM_FI_DEV_SM_CLOCK_HERTZ gauge
                DCGM_FI_DEV_SM_CLOCK_HERTZ%1$s 1980000000
                # HELP DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION Total energy (in mJ).
                # TYPE DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION counter
                DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION%1$s 123456789
                # HELP DCGM_FI_DEV_GPU_ENERGY_JOULES_TOTAL Total energy (in J).
                # TYPE DCGM_FI_DEV_GPU_ENERGY_JOULES_TOTAL counter
                DCGM_FI_DEV_GPU_ENERGY_JOULES_TOTAL%1$s 123456.789
                # HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in %%).
                # TYPE DCGM_FI_DEV_GPU_UTIL gauge
                DCGM_FI_DEV_GPU_UTIL%1$s 37
                # HELP DCGM_FI_DEV_GPU_UTIL_RATIO GPU utilization (ratio).
                # TYPE DCGM_FI_DEV_GPU_UTIL_RATIO gauge
                DCGM_FI_DEV_GPU_UTIL_RATIO%1$s 0.37
                # HELP DCGM_FI_DEV_FAN_SPEED_RATIO Fan speed (ratio).
                # TYPE DCGM_FI_DEV_FAN_SPEED_RATIO gauge
                DCGM_FI_DEV_FAN_SPEED_RATIO%1$s 1.05
                # HELP DCGM_FI_DEV_FB_TOTAL Framebuffer memory total (in MiB).
                # TYPE DCGM_FI_DEV_FB_TOTAL gauge
                DCGM_FI_DEV_FB_TOTAL%1$s 81559
                # HELP DCGM_FI_DEV_FB_CAPACITY_BYTES Total GPU memory (in bytes).
                # TYPE DCGM_FI_DEV_FB_CAPACITY_BYTES gauge
                DCGM_FI_DEV_FB_CAPACITY_BYTES%1$s 85520809984
                # HELP DCGM_FI_DEV_GPU_TEMP_CELSIUS GPU temperature (in C).
                # TYPE DCGM_FI_DEV_GPU_TEMP_CELSIUS gauge
                DCGM_FI_DEV_GPU_TEMP_CELSIUS%1$s 45
                """.formatted(labels), w.renderText(snapshot(g0)));
    }

    @Test
    void theDriverLabelIsNamedByTheLabelRowOfField1() {
        GpuSample g0 = GpuSample.builder(info(0)).readAt(T).set(Reading.GPU_TEMP_C, 45).build();
        MetricDef temp = MetricCatalog.byName("DCGM_FI_DEV_GPU_TEMP").orElseThrow();
        String none = new GpuMetricsWriter(List.of(temp), "Hostname", "n", GpuDecorator.NONE).renderText(snapshot(g0));
        assertTrue(none.contains(",Hostname=\"n\",DCGM_FI_DRIVER_VERSION=\"550.54.15\"}"), "no label row: the older name");
        List<MetricDef> both = CountersFile.parse("f", List.of("DCGM_FI_DEV_GPU_TEMP, gauge, t",
                "DCGM_FI_SYSTEM_DRIVER_VERSION, label, Driver Version", "DCGM_FI_DRIVER_VERSION, label, Driver Version"))
                .metrics();
        String text = new GpuMetricsWriter(both, "Hostname", "n", GpuDecorator.NONE).renderText(snapshot(g0));
        assertEquals("""
                # HELP DCGM_FI_DEV_GPU_TEMP t
                # TYPE DCGM_FI_DEV_GPU_TEMP gauge
                DCGM_FI_DEV_GPU_TEMP{gpu="0",UUID="GPU-0",pci_bus_id="00000000:10:00.0",device="nvidia0",\
                modelName="NVIDIA H100 80GB HBM3",Hostname="n",DCGM_FI_SYSTEM_DRIVER_VERSION="550.54.15",\
                DCGM_FI_DRIVER_VERSION="550.54.15"} 45
                """, text);
    }

    @Test
    void exporterFamiliesCountXidsPerCodeAndClockEventsPerReason() {
        AtomicLong version = new AtomicLong();
        Map<Integer, java.util.SortedMap<Integer, Long>> counts = new java.util.concurrent.ConcurrentHashMap<>();
        GpuDecorator deco = new GpuDecorator() {
            @Override
            public long version() {
                return version.get();
            }

            @Override
            public java.util.SortedMap<Integer, Long> xidCounts(GpuInfo gpu) {
                return counts.getOrDefault(gpu.index(), java.util.Collections.emptySortedMap());
            }
        };
        List<MetricDef> metrics = List.of(MetricCatalog.byName("DCGM_EXP_XID_ERRORS_TOTAL").orElseThrow(),
                MetricCatalog.byName("DCGM_EXP_CLOCK_EVENTS_TOTAL").orElseThrow());
        GpuMetricsWriter w = new GpuMetricsWriter(metrics, "hostname", "n", deco);
        GpuSample.Builder b0 = GpuSample.builder(info(0)).readAt(T);
        for (ClockEvent e : ClockEvent.all()) {
            b0.set(e.total(), 0);
        }
        GpuSample g0 = b0.set(Reading.CLOCK_EVENTS_POWER_CAP_TOTAL, 3).set(Reading.CLOCK_EVENTS_HW_THERMAL_TOTAL, 1).build();
        GpuSample g1 = GpuSample.builder(info(1)).readAt(T).build();   // not primed yet: no totals
        Snapshot s = snapshot(g0, g1);
        assertEquals("""
                # HELP DCGM_EXP_CLOCK_EVENTS_TOTAL Total clock events observed since exporter start (edge-counted).
                # TYPE DCGM_EXP_CLOCK_EVENTS_TOTAL counter
                DCGM_EXP_CLOCK_EVENTS_TOTAL%1$s,clock_event="power_cap"} 3
                DCGM_EXP_CLOCK_EVENTS_TOTAL%1$s,clock_event="hw_thermal"} 1
                """.formatted(prefix(0)), w.renderText(s), "no XID yet: no XID family; reasons never begun: no series");

        counts.put(1, new java.util.TreeMap<>(Map.of(79, 2L, 13, 1L)));
        version.incrementAndGet();
        assertEquals("""
                # HELP DCGM_EXP_XID_ERRORS_TOTAL Total XID errors observed since exporter start.
                # TYPE DCGM_EXP_XID_ERRORS_TOTAL counter
                DCGM_EXP_XID_ERRORS_TOTAL%2$s,xid="13"} 1
                DCGM_EXP_XID_ERRORS_TOTAL%2$s,xid="79"} 2
                # HELP DCGM_EXP_CLOCK_EVENTS_TOTAL Total clock events observed since exporter start (edge-counted).
                # TYPE DCGM_EXP_CLOCK_EVENTS_TOTAL counter
                DCGM_EXP_CLOCK_EVENTS_TOTAL%1$s,clock_event="power_cap"} 3
                DCGM_EXP_CLOCK_EVENTS_TOTAL%1$s,clock_event="hw_thermal"} 1
                """.formatted(prefix(0), prefix(1)), w.renderText(s));
    }

    private static String prefix(int i) {
        return "{gpu=\"" + i + "\",UUID=\"GPU-" + i + "\",pci_bus_id=\"00000000:1" + i + ":00.0\",device=\"nvidia" + i
                + "\",modelName=\"NVIDIA H100 80GB HBM3\",hostname=\"n\",DCGM_FI_DRIVER_VERSION=\"550.54.15\"";
    }

    @Test
    void combinedDecoratorsTakeTheFirstOnesXidCounts() {
        java.util.SortedMap<Integer, Long> a = new java.util.TreeMap<>(Map.of(48, 1L));
        java.util.SortedMap<Integer, Long> b = new java.util.TreeMap<>(Map.of(79, 1L));
        GpuDecorator first = new GpuDecorator() {
            @Override
            public long version() {
                return 0;
            }

            @Override
            public java.util.SortedMap<Integer, Long> xidCounts(GpuInfo gpu) {
                return gpu.index() == 0 ? a : java.util.Collections.emptySortedMap();
            }
        };
        GpuDecorator second = new GpuDecorator() {
            @Override
            public long version() {
                return 0;
            }

            @Override
            public java.util.SortedMap<Integer, Long> xidCounts(GpuInfo gpu) {
                return b;
            }
        };
        GpuDecorator both = GpuDecorator.combine(first, second);
        assertSame(a, both.xidCounts(info(0)));
        assertSame(b, both.xidCounts(info(1)));
        assertTrue(GpuDecorator.NONE.xidCounts(info(0)).isEmpty());
    }

    @Test
    void unitScalesAreExactWhereTheDecimalIs() {
        assertEquals(1.98e9, UnitScale.MEGAHERTZ_TO_HERTZ.apply(1980));
        assertEquals(123.456, UnitScale.MILLIJOULES_TO_JOULES.apply(123456));
        assertEquals(0.42, UnitScale.PERCENT_TO_RATIO.apply(42));
        assertEquals(0.07, UnitScale.PERCENT_TO_RATIO.apply(7));
        assertEquals(1048576.0 * 80, UnitScale.MEBIBYTES_TO_BYTES.apply(80));
        assertEquals(17.5, UnitScale.NONE.apply(17.5));
    }
}
