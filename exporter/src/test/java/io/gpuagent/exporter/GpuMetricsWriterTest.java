package io.gpuagent.exporter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.nvml.PciInfo;
import io.gpuagent.nvml.fake.Promtool;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicInteger;
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
    // ---- MIG

    /** H100 80GB MIG profiles as nvidia-smi -lgip lists them: 1g.10gb (profile 0) and 3g.40gb (profile 2). */
    static MigInstance mig(int gpu, int gi, int ci, String profile) {
        return switch (profile) {
            case "1g.10gb" -> new MigInstance(gpu, "GPU-" + gpu, migUuid(gpu, gi, ci), gi, ci, profile, 0, 1, gi + 3, 16, 9856);
            case "3g.40gb" -> new MigInstance(gpu, "GPU-" + gpu, migUuid(gpu, gi, ci), gi, ci, profile, 2, 3, 0, 60, 40448);
            default -> throw new IllegalArgumentException(profile);
        };
    }

    static String migUuid(int gpu, int gi, int ci) {
        return "MIG-%d%d%d00000-0000-5000-8000-000000000000".formatted(gpu, gi, ci);
    }

    static MigSample migSample(MigInstance mig, double fbUsed, double grActive) {
        return MigSample.builder(mig).set(Reading.FB_USED_MIB, fbUsed).set(Reading.FB_FREE_MIB, mig.memoryMib() - fbUsed)
                .set(Reading.FB_TOTAL_MIB, mig.memoryMib()).set(Reading.GR_ENGINE_ACTIVE, grActive).build();
    }

    /** A GPU in MIG mode: physical readings on the parent (and the aggregate memory NVML gives the parent). */
    static GpuSample migGpu(int i, MigSample... migs) {
        return migGpu(info(i), migs);
    }

    static GpuSample migGpu(GpuInfo info, MigSample... migs) {
        int i = info.index();
        return GpuSample.builder(info).readAt(T).set(Reading.MIG_MODE, 1).set(Reading.MIG_MODE_PENDING, 1)
                .set(Reading.GPU_TEMP_C, 40 + i).set(Reading.SM_CLOCK_MHZ, 1980).set(Reading.FB_USED_MIB, 50000)
                .migDevices(List.of(migs)).build();
    }

    static List<MetricDef> metrics(String... names) {
        return java.util.Arrays.stream(names).map(n -> MetricCatalog.byName(n).orElseThrow()).toList();
    }

    static String gpuLabels(int i) {
        return "gpu=\"%d\",UUID=\"GPU-%d\",pci_bus_id=\"00000000:1%d:00.0\",device=\"nvidia%d\",modelName=\"NVIDIA H100 80GB HBM3\""
                .formatted(i, i, i, i);
    }

    static String instanceLabels(int i, String profile, int gi) {
        return gpuLabels(i) + ",GPU_I_PROFILE=\"%s\",GPU_I_ID=\"%d\"".formatted(profile, gi);
    }

    static final String HOST = ",Hostname=\"node1\",DCGM_FI_DRIVER_VERSION=\"550.54.15\"";

    @Test
    void h100WithThree1g10gbAndOne3g40gbServesOneSeriesSetPerGpuInstanceAsDcgmExporter() throws Exception {
        GpuSample h100 = migGpu(0, migSample(mig(0, 1, 0, "3g.40gb"), 30000, 0.9),
                migSample(mig(0, 5, 0, "1g.10gb"), 1200, 0.25), migSample(mig(0, 6, 0, "1g.10gb"), 0, 0),
                migSample(mig(0, 7, 0, "1g.10gb"), 9000, 0.5));
        GpuMetricsWriter w = new GpuMetricsWriter(metrics("DCGM_FI_DEV_SM_CLOCK", "DCGM_FI_DEV_GPU_TEMP",
                "DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_XID_ERRORS", "DCGM_FI_DEV_FB_FREE", "DCGM_FI_DEV_FB_USED",
                "DCGM_FI_PROF_GR_ENGINE_ACTIVE"), "Hostname", "node1", GpuDecorator.NONE);
        String gi1 = "{" + instanceLabels(0, "3g.40gb", 1) + HOST;
        String gi5 = "{" + instanceLabels(0, "1g.10gb", 5) + HOST;
        String gi6 = "{" + instanceLabels(0, "1g.10gb", 6) + HOST;
        String gi7 = "{" + instanceLabels(0, "1g.10gb", 7) + HOST;
        assertEquals("""
                # HELP DCGM_FI_DEV_SM_CLOCK SM clock frequency (in MHz).
                # TYPE DCGM_FI_DEV_SM_CLOCK gauge
                DCGM_FI_DEV_SM_CLOCK%1$s} 1980
                DCGM_FI_DEV_SM_CLOCK%2$s} 1980
                DCGM_FI_DEV_SM_CLOCK%3$s} 1980
                DCGM_FI_DEV_SM_CLOCK%4$s} 1980
                # HELP DCGM_FI_DEV_GPU_TEMP GPU temperature (in C).
                # TYPE DCGM_FI_DEV_GPU_TEMP gauge
                DCGM_FI_DEV_GPU_TEMP%1$s} 40
                DCGM_FI_DEV_GPU_TEMP%2$s} 40
                DCGM_FI_DEV_GPU_TEMP%3$s} 40
                DCGM_FI_DEV_GPU_TEMP%4$s} 40
                # HELP DCGM_FI_DEV_XID_ERRORS Value of the last XID error encountered.
                # TYPE DCGM_FI_DEV_XID_ERRORS gauge
                DCGM_FI_DEV_XID_ERRORS%1$s,err_code="0"} 0
                DCGM_FI_DEV_XID_ERRORS%2$s,err_code="0"} 0
                DCGM_FI_DEV_XID_ERRORS%3$s,err_code="0"} 0
                DCGM_FI_DEV_XID_ERRORS%4$s,err_code="0"} 0
                # HELP DCGM_FI_DEV_FB_FREE Framebuffer memory free (in MiB).
                # TYPE DCGM_FI_DEV_FB_FREE gauge
                DCGM_FI_DEV_FB_FREE%1$s} 10448
                DCGM_FI_DEV_FB_FREE%2$s} 8656
                DCGM_FI_DEV_FB_FREE%3$s} 9856
                DCGM_FI_DEV_FB_FREE%4$s} 856
                # HELP DCGM_FI_DEV_FB_USED Framebuffer memory used (in MiB).
                # TYPE DCGM_FI_DEV_FB_USED gauge
                DCGM_FI_DEV_FB_USED%1$s} 30000
                DCGM_FI_DEV_FB_USED%2$s} 1200
                DCGM_FI_DEV_FB_USED%3$s} 0
                DCGM_FI_DEV_FB_USED%4$s} 9000
                # HELP DCGM_FI_PROF_GR_ENGINE_ACTIVE Ratio of time the graphics engine is active.
                # TYPE DCGM_FI_PROF_GR_ENGINE_ACTIVE gauge
                DCGM_FI_PROF_GR_ENGINE_ACTIVE%1$s} 0.9
                DCGM_FI_PROF_GR_ENGINE_ACTIVE%2$s} 0.25
                DCGM_FI_PROF_GR_ENGINE_ACTIVE%3$s} 0
                DCGM_FI_PROF_GR_ENGINE_ACTIVE%4$s} 0.5
                """.formatted(gi1, gi5, gi6, gi7), w.renderText(snapshot(h100)),
                "the parent's own series (FB_USED 50000) are not served; GPU_UTIL has no value in MIG mode");
        Promtool.checkMetrics(w.renderText(snapshot(h100)), Promtool.Lint.DCGM_NAMES);
    }

    @Test
    void aGpuInMigModeWithoutGpuInstancesKeepsItsGpuSeries() {
        GpuSample empty = migGpu(0);
        GpuMetricsWriter w = new GpuMetricsWriter(metrics("DCGM_FI_DEV_GPU_TEMP", "DCGM_FI_DEV_FB_USED"), "Hostname",
                "node1", GpuDecorator.NONE);
        assertEquals("""
                # HELP DCGM_FI_DEV_GPU_TEMP GPU temperature (in C).
                # TYPE DCGM_FI_DEV_GPU_TEMP gauge
                DCGM_FI_DEV_GPU_TEMP{%1$s} 40
                # HELP DCGM_FI_DEV_FB_USED Framebuffer memory used (in MiB).
                # TYPE DCGM_FI_DEV_FB_USED gauge
                DCGM_FI_DEV_FB_USED{%1$s} 50000
                """.formatted(gpuLabels(0) + HOST), w.renderText(snapshot(empty)));
    }

    @Test
    void mixedMigAndWholeGpusOnOneHost() {
        GpuSample whole = GpuSample.builder(info(1)).readAt(T).set(Reading.MIG_MODE, 0).set(Reading.MIG_MODE_PENDING, 0)
                .set(Reading.GPU_TEMP_C, 50).set(Reading.GPU_UTIL_PCT, 77).set(Reading.FB_USED_MIB, 4000)
                .set(Reading.REMAPPED_ROWS_UNCORRECTABLE, 0).build();
        GpuSample migged = GpuSample.builder(info(0)).readAt(T).set(Reading.MIG_MODE, 1).set(Reading.MIG_MODE_PENDING, 1)
                .set(Reading.GPU_TEMP_C, 40).set(Reading.REMAPPED_ROWS_UNCORRECTABLE, 0)
                .migDevices(List.of(migSample(mig(0, 1, 0, "3g.40gb"), 100, 0.1), migSample(mig(0, 2, 0, "3g.40gb"), 200, 0.2)))
                .build();
        GpuSample none = migGpu(2);
        GpuMetricsWriter w = new GpuMetricsWriter(metrics("DCGM_FI_DEV_GPU_TEMP", "DCGM_FI_DEV_GPU_UTIL",
                "DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS"), "Hostname", "node1", GpuDecorator.NONE);
        assertEquals("""
                # HELP DCGM_FI_DEV_GPU_TEMP GPU temperature (in C).
                # TYPE DCGM_FI_DEV_GPU_TEMP gauge
                DCGM_FI_DEV_GPU_TEMP{%1$s} 40
                DCGM_FI_DEV_GPU_TEMP{%2$s} 40
                DCGM_FI_DEV_GPU_TEMP{%3$s} 50
                DCGM_FI_DEV_GPU_TEMP{%4$s} 42
                # HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in %%).
                # TYPE DCGM_FI_DEV_GPU_UTIL gauge
                DCGM_FI_DEV_GPU_UTIL{%3$s} 77
                # HELP DCGM_FI_DEV_FB_USED Framebuffer memory used (in MiB).
                # TYPE DCGM_FI_DEV_FB_USED gauge
                DCGM_FI_DEV_FB_USED{%1$s} 100
                DCGM_FI_DEV_FB_USED{%2$s} 200
                DCGM_FI_DEV_FB_USED{%3$s} 4000
                DCGM_FI_DEV_FB_USED{%4$s} 50000
                # HELP DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS Number of remapped rows for uncorrectable errors
                # TYPE DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS counter
                DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS{%3$s} 0
                """.formatted(instanceLabels(0, "3g.40gb", 1) + HOST, instanceLabels(0, "3g.40gb", 2) + HOST,
                gpuLabels(1) + HOST, gpuLabels(2) + HOST), w.renderText(snapshot(migged, whole, none)),
                "remapped rows: absent on a GPU with instances even if read (NVML refuses them there)");
    }

    /** XIDs as the agent's ledger keeps them: per MIG UUID and per GPU, an instance's answer falling back to its GPU's. */
    static final class XidBook implements GpuDecorator {
        final Map<String, Integer> byUuid = new HashMap<>();
        final Map<String, String> jobs = new HashMap<>();
        final AtomicLong version = new AtomicLong();
        final AtomicInteger asked = new AtomicInteger();

        @Override
        public long version() {
            return version.get();
        }

        @Override
        public OptionalInt lastXid(GpuInfo gpu) {
            Integer x = byUuid.get(gpu.uuid());
            return x == null ? OptionalInt.empty() : OptionalInt.of(x);
        }

        @Override
        public OptionalInt lastXid(GpuInfo gpu, MigInstance mig) {
            Integer x = byUuid.get(mig.uuid());
            return x == null ? lastXid(gpu) : OptionalInt.of(x);
        }

        @Override
        public Map<String, String> extraLabels(GpuInfo gpu) {
            asked.incrementAndGet();
            String job = jobs.get(gpu.uuid());
            return job == null ? Map.of() : Map.of("hpc_job", job);
        }

        @Override
        public Map<String, String> extraLabels(GpuInfo gpu, MigInstance mig) {
            asked.incrementAndGet();
            String job = jobs.get(mig.uuid());
            return job == null ? Map.of() : Map.of("hpc_job", job);
        }
    }

    @Test
    void xidSeriesPerGpuInstance() {
        XidBook book = new XidBook();
        GpuSample h100 = migGpu(0, migSample(mig(0, 1, 0, "3g.40gb"), 0, 0), migSample(mig(0, 2, 0, "1g.10gb"), 0, 0),
                migSample(mig(0, 3, 0, "1g.10gb"), 0, 0));
        GpuSample other = migGpu(1, migSample(mig(1, 1, 0, "3g.40gb"), 0, 0));
        GpuMetricsWriter w = new GpuMetricsWriter(metrics("DCGM_FI_DEV_XID_ERRORS"), "Hostname", "node1", book);
        Snapshot s = snapshot(h100, other);
        book.byUuid.put(migUuid(0, 2, 0), 31);
        book.version.incrementAndGet();
        assertEquals(List.of(xidLine(instanceLabels(0, "3g.40gb", 1), 0), xidLine(instanceLabels(0, "1g.10gb", 2), 31),
                xidLine(instanceLabels(0, "1g.10gb", 3), 0), xidLine(instanceLabels(1, "3g.40gb", 1), 0)),
                xidLines(w.renderText(s)), "an XID on GI 2 shows on GI 2 only");

        book.byUuid.put("GPU-1", 79);
        book.version.incrementAndGet();
        assertEquals(List.of(xidLine(instanceLabels(0, "3g.40gb", 1), 0), xidLine(instanceLabels(0, "1g.10gb", 2), 31),
                xidLine(instanceLabels(0, "1g.10gb", 3), 0), xidLine(instanceLabels(1, "3g.40gb", 1), 79)),
                xidLines(w.renderText(s)), "a GPU-wide XID shows on every instance of that GPU");
    }

    @Test
    void severalComputeInstancesOnOneGpuInstanceShareOneSeriesSet() {
        XidBook book = new XidBook();
        // GI 1 (3g.40gb) split into compute instances 0 and 1, two MIG devices leased to two jobs; GI 2 whole.
        MigInstance ci0 = mig(0, 1, 0, "3g.40gb");
        MigInstance ci1 = mig(0, 1, 1, "3g.40gb");
        GpuSample h100 = migGpu(0, migSample(ci0, 700, 0.4), migSample(ci1, 700, 0.4), migSample(mig(0, 2, 0, "3g.40gb"), 5, 0));
        book.jobs.put(ci0.uuid(), "job-a");
        book.jobs.put(ci1.uuid(), "job-b");
        book.byUuid.put("GPU-0", 13);
        book.byUuid.put(ci1.uuid(), 43);
        GpuMetricsWriter w = new GpuMetricsWriter(metrics("DCGM_FI_DEV_XID_ERRORS", "DCGM_FI_DEV_FB_USED"), "Hostname",
                "node1", book);
        String gi1 = "{" + instanceLabels(0, "3g.40gb", 1) + HOST + ",hpc_job=\"job-a,job-b\"";
        String gi2 = "{" + instanceLabels(0, "3g.40gb", 2) + HOST;
        assertEquals("""
                # HELP DCGM_FI_DEV_XID_ERRORS Value of the last XID error encountered.
                # TYPE DCGM_FI_DEV_XID_ERRORS gauge
                DCGM_FI_DEV_XID_ERRORS%1$s,err_code="43"} 43
                DCGM_FI_DEV_XID_ERRORS%2$s,err_code="13"} 13
                # HELP DCGM_FI_DEV_FB_USED Framebuffer memory used (in MiB).
                # TYPE DCGM_FI_DEV_FB_USED gauge
                DCGM_FI_DEV_FB_USED%1$s} 700
                DCGM_FI_DEV_FB_USED%2$s} 5
                """.formatted(gi1, gi2), w.renderText(snapshot(h100)),
                "compute instance 1's own XID wins over the GPU's; both jobs named once");
    }

    @Test
    void instanceLabelsAreBuiltOnlyWhenAnIdentityOrTheDecoratorChanges() {
        XidBook book = new XidBook();
        GpuMetricsWriter w = new GpuMetricsWriter(metrics("DCGM_FI_DEV_FB_USED"), "Hostname", "node1", book);
        GpuInfo gpu0 = info(0);   // the sampler keeps one GpuInfo per GPU while its identity stands
        GpuSample gpu1 = GpuSample.builder(info(1)).readAt(T).set(Reading.FB_USED_MIB, 3).build();
        MigInstance a = mig(0, 1, 0, "3g.40gb");
        MigInstance b = mig(0, 2, 0, "3g.40gb");
        w.render(snapshot(migGpu(gpu0, migSample(a, 1, 0), migSample(b, 2, 0)), gpu1));
        assertEquals(3, book.asked.get(), "two instances and one whole GPU labelled");

        for (int sweep = 0; sweep < 3; sweep++) {   // new samples, the same identities (as records: equal, not the same)
            w.render(snapshot(migGpu(gpu0, migSample(mig(0, 1, 0, "3g.40gb"), sweep, 0), migSample(b, 2, 0)), gpu1));
        }
        assertEquals(3, book.asked.get(), "steady sweeps build no labels");

        String text = w.renderText(snapshot(migGpu(gpu0, migSample(a, 1, 0), migSample(mig(0, 3, 0, "1g.10gb"), 2, 0)),
                gpu1));
        assertEquals(5, book.asked.get(), "a reconfigured GPU relabels its instances, the other GPU stays");
        assertTrue(text.contains("GPU_I_PROFILE=\"1g.10gb\",GPU_I_ID=\"3\""), text);

        book.jobs.put(a.uuid(), "job-7");
        book.version.incrementAndGet();
        text = w.renderText(snapshot(migGpu(gpu0, migSample(a, 1, 0), migSample(mig(0, 3, 0, "1g.10gb"), 2, 0)), gpu1));
        assertEquals(8, book.asked.get(), "a decorator change relabels everything");
        assertTrue(text.contains("GPU_I_ID=\"1\"" + HOST + ",hpc_job=\"job-7\"} 1\n"), text);
        assertFalse(text.contains("GPU_I_ID=\"3\"" + HOST + ",hpc_job"), "the sibling has no job: " + text);

        w.render(snapshot(migGpu(gpu0), gpu1));
        assertEquals(9, book.asked.get(), "instances gone: the GPU's own labels again");
    }

    @Test
    void lostMigGpuHasNoInstanceSeries() {
        GpuSample lost = migGpu(0, migSample(mig(0, 1, 0, "3g.40gb"), 1, 0)).withStatus(GpuStatus.LOST, "GPU_IS_LOST");
        GpuSample stale = migGpu(1, migSample(mig(1, 1, 0, "3g.40gb"), 1, 0)).withStatus(GpuStatus.STALE, "hung");
        GpuMetricsWriter w = new GpuMetricsWriter(metrics("DCGM_FI_DEV_FB_USED"), "Hostname", "node1", GpuDecorator.NONE);
        assertEquals("""
                # HELP DCGM_FI_DEV_FB_USED Framebuffer memory used (in MiB).
                # TYPE DCGM_FI_DEV_FB_USED gauge
                DCGM_FI_DEV_FB_USED{%s} 1
                """.formatted(instanceLabels(1, "3g.40gb", 1) + HOST), w.renderText(snapshot(lost, stale)));
    }

    @Test
    void everyReadingHasAMigScope() {
        List<String> instance = new ArrayList<>();
        for (MetricDef m : MetricCatalog.all()) {
            if (m.type() != MetricType.LABEL && MigScope.of(m) == MigScope.INSTANCE) {
                instance.add(m.name());
            }
        }
        assertEquals(List.of("DCGM_FI_DEV_XID_ERRORS", "DCGM_FI_DEV_FB_FREE", "DCGM_FI_DEV_FB_USED",
                "DCGM_FI_DEV_FB_RESERVED", "DCGM_FI_PROF_GR_ENGINE_ACTIVE", "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE",
                "DCGM_FI_PROF_DRAM_ACTIVE", "DCGM_FI_DEV_FB_TOTAL", "DCGM_FI_PROF_SM_ACTIVE", "DCGM_FI_PROF_SM_OCCUPANCY",
                "DCGM_FI_PROF_PIPE_FP64_ACTIVE", "DCGM_FI_PROF_PIPE_FP32_ACTIVE", "DCGM_FI_PROF_PIPE_FP16_ACTIVE",
                "DCGM_FI_PROF_PIPE_TENSOR_IMMA_ACTIVE", "DCGM_FI_PROF_PIPE_TENSOR_HMMA_ACTIVE",
                "DCGM_FI_PROF_PIPE_TENSOR_DFMA_ACTIVE", "DCGM_FI_PROF_PIPE_INT_ACTIVE",
                "DCGM_FI_DEV_FB_CAPACITY_BYTES"), instance,
                "DCGM's GPU_I / GPU_CI level fields the catalog has (docs/metrics.md#mig)");
        assertEquals(MigScope.PARENT, MigScope.of(MetricCatalog.byName("DCGM_FI_PROF_PCIE_TX_BYTES").orElseThrow()));
        assertEquals(MigScope.ABSENT, MigScope.of(MetricCatalog.byName("DCGM_FI_DEV_ENC_UTIL").orElseThrow()));
    }

    static String xidLine(String labels, int code) {
        return "DCGM_FI_DEV_XID_ERRORS{" + labels + HOST + ",err_code=\"" + code + "\"} " + code;
    }

    static List<String> xidLines(String text) {
        return text.lines().filter(l -> l.startsWith("DCGM_FI_DEV_XID_ERRORS{")).toList();
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
