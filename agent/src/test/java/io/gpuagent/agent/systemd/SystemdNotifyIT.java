package io.gpuagent.agent.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.agent.PackagedAgent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The packaged agent under a real notify socket, as systemd runs it with Type=notify: READY=1 only once
 * /metrics serves the first snapshot, WATCHDOG=1 while sweeps make progress and the HTTP server answers its
 * self-probe, none while the sampler is wedged in NVML, STOPPING=1 on SIGTERM.
 */
class SystemdNotifyIT {

    private static final String HEALTHY = "gpus = 8\ngpu.*.temp = 47\n";

    @Test
    void readyAfterTheFirstSnapshotAndNoWatchdogWhileWedged() throws Throwable {
        // The socket in /tmp: sun_path holds 108 bytes, a build directory can be deeper than that.
        Path socketDir = Files.createTempDirectory("gpu-agent-notify");
        try (NotifyListener systemd = new NotifyListener(socketDir.resolve("notify").toString());
             PackagedAgent agent = PackagedAgent.named("notify").scenario(HEALTHY)
                     .property("gpu-agent.sample-interval", "200ms").env("NOTIFY_SOCKET", systemd.address()).start()) {
            NotifyListener.Message ready = systemd.next("READY=1", Duration.ofSeconds(60));
            assertNotNull(ready, "no READY=1 within 60 s; agent log:\n" + agent.log());
            // What systemctl start promises: the moment READY=1 arrives, /metrics has every GPU.
            String metrics = agent.body("/metrics");
            assertEquals(8, metrics.lines().filter(l -> l.startsWith("DCGM_FI_DEV_GPU_TEMP{") && l.endsWith(" 47"))
                    .count(), metrics);
            assertTrue(ready.has("STATUS=8 GPUs, all healthy, observe mode"), ready.text());

            for (int i = 0; i < 3; i++) {
                assertNotNull(systemd.next("WATCHDOG=1", Duration.ofSeconds(5)), "watchdog pings stopped while healthy");
            }
            // Those pings came through the HTTP self-probe (WatchdogPingTest: none while the server is wedged).
            assertTrue(agent.log().contains("WATCHDOG=1 goes to systemd after each sweep once GET /q/health/live on /127.0.0.1:"
                    + agent.port()), agent.log());
            assertFalse(agent.log().contains("did not answer its watchdog probe"), agent.log());

            // Wedge the sweeping thread: every device count now takes 4 s (the fake re-reads within 100 ms).
            agent.scenario(HEALTHY + "latency_ms.nvmlDeviceGetCount_v2 = 4000\n");
            Thread.sleep(1000);   // a sweep already past the device count may still publish
            systemd.clear();
            assertNull(systemd.next("WATCHDOG=1", Duration.ofMillis(2500)), "WATCHDOG=1 while the sampler is wedged");

            agent.scenario(HEALTHY);
            assertNotNull(systemd.next("WATCHDOG=1", Duration.ofSeconds(15)), "watchdog pings did not resume");

            agent.process().destroy();   // SIGTERM, as systemctl stop
            assertNotNull(systemd.next("STOPPING=1", Duration.ofSeconds(15)), "no STOPPING=1 on SIGTERM; log:\n"
                    + agent.log());
            agent.waitForExit(Duration.ofSeconds(60));
            assertTrue(agent.log().contains("told systemd READY=1"), agent.log());
        } finally {
            Files.deleteIfExists(socketDir);
        }
    }
}
