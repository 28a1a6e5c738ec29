package io.gpuagent.agent.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.agent.PackagedAgent;
import io.gpuagent.nvml.fake.FakeNvml;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The agent starts on a host where {@code libnvidia-ml.so.1} is not there yet (the path it is told does not
 * exist): /health answers 503 saying NVML is not found and what to do, /metrics still answers; then the
 * library is installed (copied beside and renamed into place, as a package manager does: a dlopen of a
 * half-copied file is a SIGBUS) and the same process picks it up by itself (the NVML connector's retry with
 * backoff) and serves every GPU.
 */
class FaultInjectionLibraryLateIT {

    static final String CASE = "NVML library missing at start, installed later";
    /** The connector retries 1 s, 2 s, 4 s, ... (max 60 s): installed ~3 s after the start, it is found by ~7 s. */
    static final Duration PICKUP_LIMIT = Duration.ofSeconds(15);

    @Test
    void healthSaysWhyAndTheLibraryIsPickedUpWithoutARestart() throws Exception {
        Path libDir = Files.createDirectories(Path.of("target", "it-agents").toAbsolutePath())
                .resolve("late-nvml-" + System.nanoTime());
        Files.createDirectories(libDir);
        Path library = libDir.resolve("libnvidia-ml.so.1");
        try (PackagedAgent agent = PackagedAgent.named("fault-late-library").library(library).start()) {
            agent.await(PackagedAgent.START, () -> {
                HttpResponse<String> health = agent.get("/health");
                assertEquals(503, health.statusCode(), health.body());
                assertTrue(health.body().contains("NVML not found at " + library)
                        && health.body().contains("install the NVIDIA driver or set gpu-agent.nvml.library"), health.body());
            });
            assertEquals(200, agent.status("/metrics"), "/metrics answers without a driver");
            assertTrue(agent.log().contains("NVML not found at " + library), agent.log());
            long pid = agent.pid();

            Path partial = libDir.resolve(".libnvidia-ml.so.1.partial");
            Files.copy(FakeNvml.LIBRARY, partial);
            Files.move(partial, library, StandardCopyOption.ATOMIC_MOVE);
            long installed = System.nanoTime();
            agent.await(PICKUP_LIMIT.plusSeconds(30), () -> {
                assertEquals(200, agent.status("/health"));
                assertEquals(8, agent.body("/metrics").lines().filter(l -> l.startsWith("DCGM_FI_DEV_GPU_TEMP{")).count());
            });
            long pickupMs = (System.nanoTime() - installed) / 1_000_000;
            assertEquals(pid, agent.pid(), "no restart");
            assertTrue(agent.log().contains("NVML loaded: library=" + library), agent.log());
            boolean met = FaultReport.row(CASE, "/health 503 \"NVML not found at <path>; install the NVIDIA driver or set "
                    + "gpu-agent.nvml.library\" meanwhile; all 8 GPUs served " + pickupMs + " ms after the install, "
                    + "same process", "<= " + PICKUP_LIMIT.toSeconds() + " s, no restart", pickupMs <= PICKUP_LIMIT.toMillis());
            assertTrue(met, "picked up " + pickupMs + " ms after the install");
        }
    }
}
