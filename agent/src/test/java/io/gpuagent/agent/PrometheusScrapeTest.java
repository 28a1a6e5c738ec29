package io.gpuagent.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.nvml.fake.FakeNvml;
import io.gpuagent.nvml.fake.Machines;
import io.gpuagent.nvml.fake.Promtool;
import io.gpuagent.nvml.fake.Scenario;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * End to end with a real Prometheus server (Debian's package): it scrapes the agent and we read the series
 * back through its HTTP API, as an operator's dashboards would.
 */
@QuarkusTest
class PrometheusScrapeTest {

    @TestHTTPResource("/metrics")
    URL metrics;

    @Test
    void aRealPrometheusScrapesEightGpuTemperatures() throws Exception {
        Path prometheus = Promtool.require("prometheus");
        Scenario scenario = Machines.dgxH100();
        for (int gpu = 0; gpu < 8; gpu++) {
            scenario.temp(gpu, 40 + gpu);
        }
        FakeNvml.write(scenario);
        FakeNvml.eventually(Duration.ofSeconds(5),
                () -> assertTrue(MetricsEndpointTest.scrape().contains("DCGM_FI_DEV_GPU_TEMP{gpu=\"7\"")
                        && MetricsEndpointTest.scrape().contains("Hostname=\"test-node\",DCGM_FI_DRIVER_VERSION=\"570.133.20\"} 47\n")));

        Path dir = Files.createTempDirectory(Path.of("target"), "prometheus");
        int port = freePort();
        Process server = startPrometheus(prometheus, dir, port, """
                metrics_path: /metrics
                static_configs:
                  - targets: ['%s:%d']
                """.formatted(metrics.getHost(), metrics.getPort()));
        try {
            HttpClient http = HttpClient.newHttpClient();
            URI query = URI.create("http://127.0.0.1:" + port + "/api/v1/query?query=DCGM_FI_DEV_GPU_TEMP");
            Map<String, Double> byGpu = new TreeMap<>();
            FakeNvml.eventually(Duration.ofSeconds(30), () -> {
                byGpu.clear();
                JsonNode result = get(http, query).path("data").path("result");
                result.forEach(r -> byGpu.put(r.path("metric").path("gpu").asText(), r.path("value").path(1).asDouble()));
                assertEquals(8, byGpu.size(), "series Prometheus has: " + result);
            });
            for (int gpu = 0; gpu < 8; gpu++) {
                assertEquals(40.0 + gpu, byGpu.get(String.valueOf(gpu)), "GPU " + gpu);
            }
            JsonNode one = get(http, URI.create("http://127.0.0.1:" + port
                    + "/api/v1/query?query=DCGM_FI_DEV_GPU_TEMP%7Bgpu%3D%220%22%7D")).path("data").path("result").path(0).path("metric");
            assertEquals("nvidia0", one.path("device").asText());
            assertEquals("NVIDIA H100 80GB HBM3", one.path("modelName").asText());
            assertTrue(one.path("UUID").asText().startsWith("GPU-"));
        } finally {
            server.destroy();
            server.waitFor();
        }
    }

    private static JsonNode get(HttpClient http, URI uri) {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
            return new ObjectMapper().readTree(r.body());
        } catch (IOException e) {
            throw new IllegalStateException("Prometheus not answering yet: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Prometheus on {@code port}, scraping the agent every second as the job {@code gpu-agent} configured by {@code job}. */
    static Process startPrometheus(Path prometheus, Path dir, int port, String job) throws IOException {
        String indented = job.lines().map(l -> "    " + l).collect(java.util.stream.Collectors.joining("\n"));
        Files.writeString(dir.resolve("prometheus.yml"), """
                global:
                  scrape_interval: 1s
                scrape_configs:
                  - job_name: gpu-agent
                """ + indented + "\n");
        return new ProcessBuilder(prometheus.toString(), "--config.file=" + dir.resolve("prometheus.yml"),
                "--storage.tsdb.path=" + dir.resolve("data"), "--web.listen-address=127.0.0.1:" + port)
                .redirectErrorStream(true).redirectOutput(dir.resolve("prometheus.log").toFile()).start();
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
