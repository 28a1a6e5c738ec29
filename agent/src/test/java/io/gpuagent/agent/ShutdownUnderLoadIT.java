package io.gpuagent.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * SIGTERM in the middle of sweeps whose NVML calls are slow, on the strict fake driver (failsafe sets
 * {@code FAKE_NVML_STRICT=1}): an {@code nvmlShutdown} under a call in flight, or a handle, event set or GPM
 * sample used after it, aborts the process there, as it would crash on the real library. Twenty times,
 * the packaged agent must stop cleanly: exit 0 or 143, no abort, no {@code hs_err_pid*} file.
 */
class ShutdownUnderLoadIT {
    static final int RUNS = 20;

    @Test
    void sigtermDuringSlowSweepsExitsCleanlyEveryTime() throws Exception {
        Path jar = Path.of(System.getProperty("quarkus-app.jar", "target/quarkus-app/quarkus-run.jar"));
        assertTrue(Files.isRegularFile(jar), "not packaged: " + jar);
        Scenario.write("""
                gpus = 8
                gpu.*.latency_ms.nvmlDeviceGetTemperatureV = 120
                gpu.*.latency_ms.nvmlDeviceGetPowerUsage = 80
                gpu.*.latency_ms.nvmlDeviceGetFieldValues = 60
                gpu.*.latency_ms.nvmlGpmSampleGet = 40
                """);
        Path dir = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "shutdown-it");
        for (int run = 1; run <= RUNS; run++) {
            // A client per run: a pooled keep-alive connection to an earlier run's (killed) agent on a reused
            // port must never be what a request waits on.
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
            Path state = Files.createDirectories(dir.resolve("run-" + run));
            Path log = state.resolve("agent.log");
            int port = PrometheusScrapeTest.freePort();
            Process agent = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--enable-native-access=ALL-UNNAMED", "-XX:+ExitOnOutOfMemoryError",
                    "-XX:ErrorFile=" + state.resolve("hs_err_pid%p.log"), "-XX:-CreateCoredumpOnCrash",
                    "-Dgpu-agent.nvml.library=" + Scenario.FAKE_LIBRARY.toAbsolutePath(),
                    "-Dgpu-agent.state-dir=" + state, "-Dgpu-agent.sample-interval=300ms",
                    "-Dquarkus.http.port=" + port, "-Dquarkus.http.host=127.0.0.1", "-jar", jar.toString())
                    .directory(state.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            try {
                int p = port;
                Scenario.eventually(Duration.ofSeconds(60), () -> assertTrue(
                        body(http, p, "/metrics").contains("DCGM_FI_DEV_GPU_TEMP{gpu=\"7\""), "no first snapshot yet"));
                Thread.sleep(ThreadLocalRandom.current().nextInt(0, 400));   // somewhere inside a sweep
            } finally {
                agent.destroy();   // SIGTERM
            }
            assertTrue(agent.waitFor(60, TimeUnit.SECONDS), "run " + run + ": still running 60 s after SIGTERM");
            String text = Files.readString(log);
            int exit = agent.exitValue();
            assertTrue(exit == 0 || exit == 143, "run " + run + ": exit " + exit + "\n" + text);
            assertFalse(text.contains("fake-nvml: STRICT"), "run " + run + ": misuse of NVML at shutdown\n" + text);
            assertFalse(text.contains("A fatal error has been detected"), "run " + run + ": JVM crash\n" + text);
            try (var files = Files.list(state)) {
                List<String> crashes = files.map(f -> f.getFileName().toString()).filter(n -> n.startsWith("hs_err")).toList();
                assertEquals(List.of(), crashes, "run " + run);
            }
        }
    }

    private static String body(HttpClient http, int port, String path) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                            .timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
        } catch (Exception e) {
            throw new AssertionError("agent not answering yet: " + e, e);
        }
    }
}
