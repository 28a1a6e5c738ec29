package io.gpuagent.agent;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.exporter.MetricCatalog;
import io.gpuagent.exporter.MetricDef;
import io.gpuagent.exporter.MetricType;
import io.gpuagent.nvml.fake.FakeNvml;
import io.gpuagent.nvml.fake.Promtool.Lint;
import io.gpuagent.nvml.fake.Promtool;
import io.quarkus.test.junit.QuarkusTest;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code GET /metrics} against the fake driver: dcgm-exporter's names, labels and units, the scenario's values. */
@QuarkusTest
class MetricsEndpointTest {

    static final String SCENARIO = """
            gpus = 8
            gpu.*.util_gpu = 37
            gpu.*.memory_used_mib = 2048
            gpu.5.temp = 45
            gpu.5.power_mw = 123000
            gpu.5.clock_sm = 1755
            gpu.5.pcie_replay = 7
            """;

    static final String GPU5 = "{gpu=\"5\",UUID=\"GPU-8a4e6f10-0005-4c2b-9d3e-5f7a1b2c3d4e\",pci_bus_id=\"00000000:AB:00.0\","
            + "device=\"nvidia5\",modelName=\"NVIDIA H100 80GB HBM3\",Hostname=\"test-node\",DCGM_FI_DRIVER_VERSION=\"570.133.20\"}";

    @BeforeEach
    void scenario() {
        FakeNvml.write(SCENARIO);
        FakeNvml.eventually(Duration.ofSeconds(5), () -> assertTrue(scrape().contains("DCGM_FI_DEV_GPU_TEMP" + GPU5 + " 45\n")));
    }

    static String scrape() {
        return given().when().get("/metrics").then().statusCode(200)
                .contentType("text/plain; version=0.0.4; charset=utf-8").extract().asString();
    }

    @Test
    void everyDefaultMetricIsThereForEightGpusWithDcgmLabels() {
        // GPM ratios need two samples of a GPU: a GPU an earlier test made lost is back one sweep later.
        FakeNvml.eventually(Duration.ofSeconds(5), MetricsEndpointTest::everyDefaultMetricForEightGpus);
    }

    private static void everyDefaultMetricForEightGpus() {
        String text = scrape();
        for (MetricDef metric : MetricCatalog.defaultSet()) {
            if (metric.type() == MetricType.LABEL) {
                assertTrue(text.contains("," + metric.name() + "=\""), metric.name() + " is a label on every series");
                continue;
            }
            assertTrue(text.contains("# TYPE " + metric.name() + " " + metric.type().name().toLowerCase() + "\n"),
                    "TYPE line of " + metric.name());
            long series = text.lines().filter(l -> l.startsWith(metric.name() + "{")).count();
            assertEquals(8, series, metric.name() + " series");
        }
        Pattern labels = Pattern.compile("^DCGM_FI_\\w+\\{gpu=\"[0-7]\",UUID=\"GPU-[0-9a-f-]{36}\",pci_bus_id=\"0{8}:[0-9A-F]{2}:00\\.0\","
                + "device=\"nvidia[0-7]\",modelName=\"NVIDIA H100 80GB HBM3\",Hostname=\"test-node\",DCGM_FI_DRIVER_VERSION=\"570\\.133\\.20\"(,err_code=\"\\d+\")?} \\S+$");
        List<String> odd = text.lines().filter(l -> l.startsWith("DCGM_")).filter(l -> !labels.matcher(l).matches()).toList();
        assertEquals(List.of(), odd, "series with other labels");
    }

    @Test
    void valuesComeFromTheScenarioInDcgmUnits() {
        String text = scrape();
        assertTrue(text.contains("DCGM_FI_DEV_GPU_TEMP" + GPU5 + " 45\n"), text);
        assertTrue(text.contains("DCGM_FI_DEV_POWER_USAGE" + GPU5 + " 123\n"), "watts, not milliwatts");
        assertTrue(text.contains("DCGM_FI_DEV_SM_CLOCK" + GPU5 + " 1755\n"));
        assertTrue(text.contains("DCGM_FI_DEV_GPU_UTIL" + GPU5 + " 37\n"));
        assertTrue(text.contains("DCGM_FI_DEV_FB_USED" + GPU5 + " 2048\n"), "MiB");
        assertTrue(text.contains("DCGM_FI_DEV_FB_FREE" + GPU5 + " " + (81559 - 534 - 2048) + "\n"), "total - reserved - used");
        assertTrue(text.contains("DCGM_FI_DEV_PCIE_REPLAY_COUNTER" + GPU5 + " 7\n"));
        assertTrue(text.contains("# TYPE DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION counter\n"), "a counter without _total, as dcgm-exporter");
        assertTrue(text.contains("gpu_agent_nvml_up 1.0\n"));
        assertTrue(text.contains("gpu_agent_gpus 8.0\n"));
    }

    @Test
    void rewritingTheScenarioChangesTheScrapeWithinTwoIntervals() {
        FakeNvml.write(SCENARIO.replace("gpu.5.temp = 45", "gpu.5.temp = 77"));
        long start = System.nanoTime();
        // Two sample intervals (200 ms each in the test profile) plus the fake's re-read (it checks every 10 ms).
        FakeNvml.eventually(Duration.ofMillis(500), () -> assertTrue(scrape().contains("DCGM_FI_DEV_GPU_TEMP" + GPU5 + " 77\n")));
        assertTrue(System.nanoTime() - start < Duration.ofSeconds(2).toNanos());
    }

    @Test
    void theAgentSeriesAreTheRegistrysOwn() {
        for (int i = 0; i < 20; i++) {   // the response buffers are reused: every scrape is whole
            io.restassured.response.Response r = given().when().get("/metrics");
            String text = r.asString();
            assertEquals(text.getBytes(java.nio.charset.StandardCharsets.UTF_8).length, Integer.parseInt(r.header("Content-Length")));
            List<String> ours = withoutValues(text.substring(text.indexOf("# HELP gpu_agent_")));
            List<String> registry = withoutValues(agentRegistry.registry().scrape());
            assertEquals(registry, ours, "scrape " + i);
            assertTrue(ours.size() > 100, "the agent's series are there: " + ours.size() + " lines");
        }
    }

    @Test
    void concurrentScrapesAcrossSnapshotsAreEachWhole() throws Exception {
        // The GPU family is a native buffer per snapshot, freed once replaced and written to its last scrape:
        // scrapes from 4 threads over ~8 sweeps (200 ms each here), while the readings change, must each be whole.
        java.net.http.HttpClient client = java.net.http.HttpClient.newHttpClient();
        java.net.URI uri = java.net.URI.create("http://localhost:" + io.restassured.RestAssured.port + "/metrics");
        long until = System.nanoTime() + Duration.ofMillis(1600).toNanos();
        java.util.concurrent.atomic.AtomicInteger scrapes = new java.util.concurrent.atomic.AtomicInteger();
        java.util.Set<String> temps = java.util.concurrent.ConcurrentHashMap.newKeySet();
        Pattern temp = Pattern.compile("(?m)^DCGM_FI_DEV_GPU_TEMP" + Pattern.quote(GPU5) + " (\\d+)$");
        try (var pool = java.util.concurrent.Executors.newFixedThreadPool(4)) {
            List<java.util.concurrent.Future<?>> workers = new java.util.ArrayList<>();
            for (int t = 0; t < 4; t++) {
                workers.add(pool.submit(() -> {
                    while (System.nanoTime() < until) {
                        var r = client.send(java.net.http.HttpRequest.newBuilder(uri).build(),
                                java.net.http.HttpResponse.BodyHandlers.ofByteArray());
                        assertEquals(200, r.statusCode());
                        String text = new String(r.body(), java.nio.charset.StandardCharsets.UTF_8);
                        assertEquals(r.body().length, Integer.parseInt(r.headers().firstValue("Content-Length").orElseThrow()));
                        assertTrue(text.startsWith("# HELP DCGM_FI_"), () -> text.substring(0, Math.min(200, text.length())));
                        assertTrue(text.contains("\n# HELP gpu_agent_") && text.endsWith("\n"));
                        var m = temp.matcher(text);
                        assertTrue(m.find(), "GPU 5's temperature in every scrape");
                        temps.add(m.group(1));
                        scrapes.incrementAndGet();
                    }
                    return null;
                }));
            }
            for (int i = 0; i < 6; i++) {
                Thread.sleep(200);
                FakeNvml.write(SCENARIO.replace("gpu.5.temp = 45", "gpu.5.temp = " + (50 + i)));
            }
            for (var w : workers) {
                w.get();
            }
        }
        assertTrue(temps.size() >= 3, "the readings changed under the scrapes: " + temps + " in " + scrapes + " scrapes");
    }

    /** The lines sorted, each sample without its value (ages and durations move between two reads). */
    private static List<String> withoutValues(String text) {
        return text.lines().map(l -> l.startsWith("#") ? l : l.substring(0, l.lastIndexOf(' '))).sorted().toList();
    }

    @jakarta.inject.Inject
    AgentRegistry agentRegistry;

    @Test
    void promtoolAcceptsTheScrape() throws Exception {
        Promtool.checkMetrics(scrape(), Lint.DCGM_NAMES);
    }
}
