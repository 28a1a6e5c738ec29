package io.gpuagent.agent.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.agent.PackagedAgent;
import java.io.IOException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A GPU falls off the bus mid-run (the fake's {@code gpu.5.lost = 1}: every call on it answers GPU_IS_LOST):
 * the agent stays up, reports GPU 5 LOST in /health (503, with the reason) and in its metrics, and keeps
 * reading the other seven (a temperature change on them shows up in /metrics).
 */
class FaultInjectionGpuLostIT {

    static final String CASE = "GPU lost mid-run";
    static final Duration LIMIT = Duration.ofSeconds(10);
    static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void aLostGpuIsReportedAndTheOthersKeepBeingRead() throws Exception {
        try (PackagedAgent agent = PackagedAgent.named("fault-lost").start()) {
            agent.awaitScrape();
            long pid = agent.pid();
            agent.scenario("gpus = 8\ngpu.5.lost = 1\n");
            long t0 = System.nanoTime();
            agent.await(LIMIT, () -> {
                JsonNode health = json(agent.get("/health").body());
                JsonNode gpu5 = health.get("gpus").get(5);
                assertEquals("LOST", gpu5.get("state").asText(), gpu5.toString());
                assertTrue(gpu5.toString().contains("GPU_IS_LOST"), gpu5.toString());
            });
            long reportedMs = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(503, agent.status("/health"), "a lost GPU makes the node unfit");
            assertTrue(agent.body("/metrics").contains(
                    "gpu_agent_gpu_health{UUID=\"GPU-8a4e6f10-0005-4c2b-9d3e-5f7a1b2c3d4e\",gpu=\"5\",state=\"lost\",} 1.0"));

            // The others are still read: a new temperature on them reaches /metrics.
            agent.scenario("gpus = 8\ngpu.5.lost = 1\ngpu.*.temp = 61\n");
            long t1 = System.nanoTime();
            agent.await(LIMIT, () -> {
                String metrics = agent.body("/metrics");
                long fresh = metrics.lines().filter(l -> l.startsWith("DCGM_FI_DEV_GPU_TEMP{") && l.endsWith(" 61")).count();
                assertEquals(7, fresh, "GPUs other than 5 read at 61 C");
                assertTrue(metrics.lines().noneMatch(l -> l.startsWith("DCGM_FI_DEV_GPU_TEMP{") && l.contains("gpu=\"5\"") && l.endsWith(" 61")),
                        "GPU 5 cannot have been read");
            });
            long othersMs = (System.nanoTime() - t1) / 1_000_000;
            for (JsonNode g : json(agent.get("/health").body()).get("gpus")) {
                if (g.get("index").asInt() != 5) {
                    assertEquals("HEALTHY", g.get("state").asText(), g.toString());
                }
            }
            assertTrue(agent.isAlive() && agent.pid() == pid, "the agent stayed up");
            boolean met = FaultReport.row(CASE, "GPU 5 LOST in /health (503) " + reportedMs + " ms after the loss; the other 7 "
                    + "GPUs' new readings in /metrics " + othersMs + " ms after the change; same process", "each <= "
                    + LIMIT.toSeconds() + " s, agent up", reportedMs <= LIMIT.toMillis() && othersMs <= LIMIT.toMillis());
            assertTrue(met);
        }
    }

    private static JsonNode json(String body) {
        try {
            return JSON.readTree(body);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
