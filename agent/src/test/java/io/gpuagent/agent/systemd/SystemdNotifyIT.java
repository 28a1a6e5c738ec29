package io.gpuagent.agent.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.agent.Scenario;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The packaged agent under a real notify socket, as systemd runs it with Type=notify: READY=1 only once
 * /metrics serves the first snapshot, WATCHDOG=1 while sweeps make progress and none while the sampler is
 * wedged in NVML, STOPPING=1 on SIGTERM.
 */
class SystemdNotifyIT {

    private static final String HEALTHY = "gpus = 8\ngpu.*.temp = 47\n";

    @Test
    void readyAfterTheFirstSnapshotAndNoWatchdogWhileWedged() throws Throwable {
        Path jar = Path.of(System.getProperty("quarkus-app.jar", "target/quarkus-app/quarkus-run.jar"));
        assertTrue(Files.isRegularFile(jar), "not packaged: " + jar);
        Path dir = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "notify-it");
        Path scenario = dir.resolve("scenario.conf");
        Files.writeString(scenario, HEALTHY);
        int port = freePort();
        Path log = dir.resolve("agent.log");
        // The socket in /tmp: sun_path holds 108 bytes, a build directory can be deeper than that.
        Path socketDir = Files.createTempDirectory("gpu-agent-notify");
        try (NotifyListener systemd = new NotifyListener(socketDir.resolve("notify").toString())) {
            ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--enable-native-access=ALL-UNNAMED", "-Dgpu-agent.nvml.library=" + Scenario.FAKE_LIBRARY.toAbsolutePath(),
                    "-Dgpu-agent.state-dir=" + dir.resolve("state"), "-Dgpu-agent.sample-interval=200ms",
                    "-Dquarkus.http.port=" + port, "-Dquarkus.http.host=127.0.0.1", "-jar", jar.toString())
                    .redirectErrorStream(true).redirectOutput(log.toFile());
            pb.environment().put("NOTIFY_SOCKET", systemd.address());
            pb.environment().put("FAKE_NVML_SCENARIO", scenario.toString());
            Process agent = pb.start();
            try {
                NotifyListener.Message ready = systemd.next("READY=1", Duration.ofSeconds(60));
                assertNotNull(ready, "no READY=1 within 60 s; agent log:\n" + Files.readString(log));
                // What systemctl start promises: the moment READY=1 arrives, /metrics has every GPU.
                String metrics = get(port, "/metrics");
                assertEquals(8, metrics.lines().filter(l -> l.startsWith("DCGM_FI_DEV_GPU_TEMP{") && l.endsWith(" 47"))
                        .count(), metrics);
                assertTrue(ready.has("STATUS=8 GPUs, all healthy, observe mode"), ready.text());

                for (int i = 0; i < 3; i++) {
                    assertNotNull(systemd.next("WATCHDOG=1", Duration.ofSeconds(5)), "watchdog pings stopped while healthy");
                }

                // Wedge the sweeping thread: every device count now takes 4 s (the fake re-reads within 100 ms).
                Files.writeString(scenario, HEALTHY + "latency_ms.nvmlDeviceGetCount_v2 = 4000\n");
                Thread.sleep(1000);   // a sweep already past the device count may still publish
                systemd.clear();
                assertNull(systemd.next("WATCHDOG=1", Duration.ofMillis(2500)), "WATCHDOG=1 while the sampler is wedged");

                Files.writeString(scenario, HEALTHY);
                assertNotNull(systemd.next("WATCHDOG=1", Duration.ofSeconds(15)), "watchdog pings did not resume");

                agent.destroy();   // SIGTERM, as systemctl stop
                assertNotNull(systemd.next("STOPPING=1", Duration.ofSeconds(15)), "no STOPPING=1 on SIGTERM; log:\n"
                        + Files.readString(log));
            } finally {
                agent.destroy();
                agent.waitFor();
            }
        } finally {
            Files.deleteIfExists(socketDir);
        }
        assertTrue(Files.readString(log).contains("told systemd READY=1"), Files.readString(log));
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static String get(int port, String path) throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }
}
