package io.gpuagent.agent.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.agent.PackagedAgent;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * An NVML call on one GPU hangs for 10 s (the fake's {@code gpu.3.latency_ms.nvmlDeviceGetTemperatureV}):
 * /metrics keeps answering within 50 ms while it hangs, GPU 3 is served STALE (gpu_agent_gpu_stale 1, its
 * previous readings) and the other GPUs stay fresh; once the call returns, GPU 3 is fresh again.
 */
class FaultInjectionNvmlHangIT {

    static final String CASE = "NVML call hanging 10 s";
    static final long HANG_MS = 10_000;
    static final double SCRAPE_LIMIT_MS = 50;
    static final ObjectMapper JSON = new ObjectMapper();
    static final String GPU3_STALE = "gpu_agent_gpu_stale{UUID=\"GPU-8a4e6f10-0003-4c2b-9d3e-5f7a1b2c3d4e\",gpu=\"3\",}";

    @Test
    void scrapesAreAnsweredWhileOneGpusCallHangsAndThatGpuIsStale() throws Exception {
        try (PackagedAgent agent = PackagedAgent.named("fault-hang").start()) {
            agent.awaitScrape();
            double[] control = FaultReport.latencies(agent, "/metrics", Duration.ofSeconds(3), 5, r -> assertEquals(200, r.statusCode()));

            agent.scenario("gpus = 8\ngpu.3.latency_ms.nvmlDeviceGetTemperatureV = " + HANG_MS + "\n");
            long hangFrom = System.nanoTime();
            // The sampler gives up waiting for GPU 3 at its deadline and publishes it STALE.
            agent.await(Duration.ofSeconds(5), () -> assertTrue(agent.body("/metrics").contains(GPU3_STALE + " 1.0"),
                    "GPU 3 not stale yet"));
            long staleAfterMs = (System.nanoTime() - hangFrom) / 1_000_000;

            // Scrape back to back (5 ms apart, as a busy Prometheus would) for the rest of the hang.
            AtomicInteger staleSeen = new AtomicInteger();
            Duration rest = Duration.ofMillis(HANG_MS - 500).minusNanos(System.nanoTime() - hangFrom);
            double[] sorted = FaultReport.latencies(agent, "/metrics", rest, 5, r -> {
                assertEquals(200, r.statusCode());
                assertEquals(8, r.body().lines().filter(l -> l.startsWith("DCGM_FI_DEV_GPU_TEMP{")).count(),
                        "every GPU still in /metrics (GPU 3 with its previous readings)");
                staleSeen.addAndGet(r.body().contains(GPU3_STALE + " 1.0") ? 1 : 0);
            });
            JsonNode gpu3 = JSON.readTree(agent.body("/v1/gpus/3"));
            assertEquals("STALE", gpu3.get("status").asText(), gpu3.toString());
            for (JsonNode g : JSON.readTree(agent.body("/v1/gpus")).path("gpus")) {
                if (g.get("index").asInt() != 3) {
                    assertEquals("OK", g.get("status").asText(), "other GPUs stay fresh: " + g);
                }
            }
            assertTrue(staleSeen.get() > 0, "GPU 3 was served stale");

            double p99 = FaultReport.quantile(sorted, 0.99);
            boolean met = FaultReport.latency(CASE, "/metrics while GPU 3's call hangs: " + FaultReport.summary(sorted)
                    + "; GPU 3 STALE " + staleAfterMs + " ms after the hang began, the other GPUs fresh", p99,
                    FaultReport.quantile(control, 0.99), SCRAPE_LIMIT_MS);
            assertTrue(met, "scrape p99 " + p99 + " ms while an NVML call hangs");

            // The call returns after its 10 s; then GPU 3 is read fresh again.
            agent.scenario("gpus = 8\n");
            agent.await(Duration.ofSeconds(20), () -> assertTrue(agent.body("/metrics").contains(GPU3_STALE + " 0.0"),
                    "GPU 3 still stale"));
        }
    }
}
