package io.gpuagent.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;

/**
 * SIGTERM in the middle of sweeps whose NVML calls are slow, on the strict fake driver ({@link PackagedAgent}
 * sets {@code FAKE_NVML_STRICT=1}): an {@code nvmlShutdown} under a call in flight, or a handle, event set or GPM
 * sample used after it, aborts the process there, as it would crash on the real library. Twenty times,
 * the packaged agent must stop cleanly: exit 0 or 143, no abort, no {@code hs_err_pid*} file.
 */
class ShutdownUnderLoadIT {
    static final int RUNS = 20;

    @Test
    void sigtermDuringSlowSweepsExitsCleanlyEveryTime() throws Exception {
        String slow = """
                gpus = 8
                gpu.*.latency_ms.nvmlDeviceGetTemperatureV = 120
                gpu.*.latency_ms.nvmlDeviceGetPowerUsage = 80
                gpu.*.latency_ms.nvmlDeviceGetFieldValues = 60
                gpu.*.latency_ms.nvmlGpmSampleGet = 40
                """;
        for (int run = 1; run <= RUNS; run++) {
            // A fresh agent (own directory, port and HTTP client) per run: a pooled keep-alive connection to an
            // earlier run's agent on a reused port must never be what a request waits on.
            try (PackagedAgent agent = PackagedAgent.named("shutdown-" + run).scenario(slow)
                    .property("gpu-agent.sample-interval", "300ms").start()) {
                agent.await(Duration.ofSeconds(60), () -> assertTrue(
                        agent.body("/metrics").contains("DCGM_FI_DEV_GPU_TEMP{gpu=\"7\""), "no first snapshot yet"));
                Thread.sleep(ThreadLocalRandom.current().nextInt(0, 400));   // somewhere inside a sweep
                agent.process().destroy();   // SIGTERM
                int exit = agent.waitForExit(Duration.ofSeconds(60));
                String text = agent.log();
                assertTrue(exit == 0 || exit == 143, "run " + run + ": exit " + exit + "\n" + text);
                assertFalse(text.contains("fake-nvml: STRICT"), "run " + run + ": misuse of NVML at shutdown\n" + text);
                assertFalse(text.contains("A fatal error has been detected"), "run " + run + ": JVM crash\n" + text);
                try (var files = Files.list(agent.dir())) {
                    List<String> crashes = files.map(f -> f.getFileName().toString()).filter(n -> n.startsWith("hs_err")).toList();
                    assertEquals(List.of(), crashes, "run " + run);
                }
            }
        }
    }
}
