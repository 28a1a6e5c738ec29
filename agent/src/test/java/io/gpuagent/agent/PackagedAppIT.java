package io.gpuagent.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The packaged app, started as the package starts it ({@link PackagedAgent}: the shipped JVM options,
 * {@code --enable-native-access=ALL-UNNAMED -Dgpu-agent.nvml.library=<fake> -jar quarkus-run.jar}).
 */
class PackagedAppIT {

    @Test
    void thePackagedJarServesMetricsAndHealthOnTheFakeDriver() throws Exception {
        try (PackagedAgent agent = PackagedAgent.named("packaged-app").scenario("gpus = 8\ngpu.*.temp = 55\n").start()) {
            agent.await(Duration.ofSeconds(30), () -> assertEquals(200, agent.status("/health")));
            String text = agent.body("/metrics");
            assertEquals(8, text.lines().filter(l -> l.startsWith("DCGM_FI_DEV_GPU_TEMP{") && l.endsWith(" 55")).count(), text);
            agent.terminate(Duration.ofSeconds(60));
            assertTrue(agent.log().contains("NVML loaded"), agent.log());
        }
    }
}
