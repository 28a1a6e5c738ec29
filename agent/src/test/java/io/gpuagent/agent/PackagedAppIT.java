package io.gpuagent.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The packaged app, started exactly as README says:
 * {@code java --enable-native-access=ALL-UNNAMED -Dgpu-agent.nvml.library=<fake> -jar quarkus-run.jar}.
 */
class PackagedAppIT {

    @Test
    void thePackagedJarServesMetricsAndHealthOnTheFakeDriver() throws Exception {
        Path jar = Path.of(System.getProperty("quarkus-app.jar", "target/quarkus-app/quarkus-run.jar"));
        assertTrue(Files.isRegularFile(jar), "not packaged: " + jar);
        Scenario.write("gpus = 8\ngpu.*.temp = 55\n");
        int port = PrometheusScrapeTest.freePort();
        Path state = Files.createTempDirectory(Path.of("target"), "it-state");
        Path log = state.resolve("agent.log");
        Process agent = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Dgpu-agent.nvml.library=" + Scenario.FAKE_LIBRARY.toAbsolutePath(),
                "-Dgpu-agent.state-dir=" + state, "-Dquarkus.http.port=" + port, "-Dquarkus.http.host=127.0.0.1",
                "-jar", jar.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
            Scenario.eventually(Duration.ofSeconds(30), () -> assertEquals(200, status(http, port, "/health")));
            String text = body(http, port, "/metrics");
            assertEquals(8, text.lines().filter(l -> l.startsWith("DCGM_FI_DEV_GPU_TEMP{") && l.endsWith(" 55")).count(), text);
        } finally {
            agent.destroy();
            agent.waitFor();
        }
        assertTrue(Files.readString(log).contains("NVML loaded"), Files.readString(log));
    }

    private static int status(HttpClient http, int port, String path) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (Exception e) {
            throw new AssertionError("agent not answering yet: " + e, e);
        }
    }

    private static String body(HttpClient http, int port, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }
}
