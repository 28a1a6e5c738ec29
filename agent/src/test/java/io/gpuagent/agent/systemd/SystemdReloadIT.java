package io.gpuagent.agent.systemd;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.agent.PackagedAgent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * {@code systemctl reload gpu-agent} as systemd does it: SIGHUP to the packaged agent under a notify socket.
 * A new counters file changes the series (RELOADING=1, then READY=1), a malformed one is refused and the old set
 * kept, and the agent never stops (the JVM's own SIGHUP handler would have shut it down).
 */
class SystemdReloadIT {

    static final String TEMP = "DCGM_FI_DEV_GPU_TEMP, gauge, GPU temperature (in C).\n";
    static final String POWER = "DCGM_FI_DEV_POWER_USAGE, gauge, Power draw (in W).\n";

    @Test
    void sighupReloadsTheCountersFileOrRefusesABadOne() throws Throwable {
        Path socketDir = Files.createTempDirectory("gpu-agent-notify");
        Path dir = Files.createTempDirectory(Files.createDirectories(Path.of("target", "it-agents").toAbsolutePath()), "reload-");
        Path counters = dir.resolve("counters.csv");
        write(counters, TEMP);
        Path host = dir.resolve("agent.properties");
        write(host, "gpu-agent.counters-file=" + counters + "\n");
        try (NotifyListener systemd = new NotifyListener(socketDir.resolve("notify").toString());
             PackagedAgent agent = PackagedAgent.named("reload").dir(dir.resolve("agent"))
                     .env("NOTIFY_SOCKET", systemd.address()).env("GPU_AGENT_CONFIG", host.toString()).start()) {
            assertNotNull(systemd.next("READY=1", Duration.ofSeconds(60)), "no READY=1; log:\n" + agent.log());
            assertFalse(agent.body("/metrics").contains("DCGM_FI_DEV_POWER_USAGE{"));

            write(counters, TEMP + POWER);
            hangup(agent);
            NotifyListener.Message reloading = systemd.next("RELOADING=1", Duration.ofSeconds(10));
            assertNotNull(reloading, "no RELOADING=1; log:\n" + agent.log());
            assertTrue(reloading.text().matches("(?s).*MONOTONIC_USEC=\\d+.*"), reloading.text());
            assertNotNull(systemd.next("READY=1", Duration.ofSeconds(10)), "no READY=1 after the reload");
            awaitMetric(agent, "DCGM_FI_DEV_POWER_USAGE{");

            write(counters, TEMP + "DCGM_FI_NO_SUCH_FIELD, gauge, nothing\n");
            systemd.clear();
            hangup(agent);
            NotifyListener.Message after = systemd.next("READY=1", Duration.ofSeconds(10));
            assertNotNull(after, "no READY=1 after the refused reload");
            assertTrue(after.text().contains("configuration reload refused"), after.text());
            String metrics = agent.body("/metrics");
            assertTrue(metrics.contains("DCGM_FI_DEV_POWER_USAGE{"), "the last good set is served");
            assertTrue(metrics.lines().anyMatch(l -> l.startsWith("gpu_agent_config_reloads_total{")
                    && l.contains("\"refused\"") && l.endsWith(" 1.0")), metrics);
            assertTrue(agent.log().contains("DCGM_FI_NO_SUCH_FIELD"), agent.log());
            assertTrue(agent.isAlive(), "SIGHUP stopped the agent");
        }
    }

    private static void hangup(PackagedAgent agent) throws Exception {
        new ProcessBuilder("kill", "-HUP", Long.toString(agent.pid())).inheritIO().start().waitFor();
    }

    private static void awaitMetric(PackagedAgent agent, String prefix) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!agent.body("/metrics").contains(prefix)) {
            assertTrue(System.nanoTime() < deadline, prefix + " not served after the reload; log:\n" + agent.log());
            Thread.sleep(100);
        }
    }

    private static void write(Path file, String text) throws Exception {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, text);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
