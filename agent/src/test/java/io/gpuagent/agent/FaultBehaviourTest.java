package io.gpuagent.agent;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.nvml.fake.FakeNvml;
import io.quarkus.test.junit.QuarkusTest;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A lost GPU and a hung NVML call, through the fake driver: the rest of the node keeps reporting. */
@QuarkusTest
class FaultBehaviourTest {

    @AfterEach
    void healthyAgain() {
        HealthyNode.restore("/health", Duration.ofSeconds(10));
    }

    @Test
    void aLostGpuFailsHealthAndDropsItsSeriesWhileTheOthersKeepReporting() {
        FakeNvml.write("gpus = 8\ngpu.3.lost = 1\ngpu.*.temp = 50\n");
        FakeNvml.eventually(Duration.ofSeconds(5), () -> given().get("/health").then().statusCode(503)
                .body("healthy", equalTo(false))
                .body("gpus[3].state", equalTo("LOST"))
                .body("reason", containsString("GPU 3"))
                .body("gpus[2].state", equalTo("HEALTHY")));
        given().get("/health/gpus/3").then().statusCode(503).body("state", equalTo("LOST"));
        given().get("/health/gpus/2").then().statusCode(200).body("state", equalTo("HEALTHY"));

        String text = MetricsEndpointTest.scrape();
        for (int gpu = 0; gpu < 8; gpu++) {
            boolean present = text.contains("DCGM_FI_DEV_GPU_TEMP{gpu=\"" + gpu + "\"");
            assertEquals(gpu != 3, present, "GPU " + gpu + " temperature series");
        }
        assertTrue(text.contains("gpu_agent_nvml_up 1.0"));
    }

    @Test
    void aHungNvmlCallDelaysThatGpuNotTheScrape() {
        FakeNvml.write("gpus = 8\ngpu.2.latency_ms.nvmlDeviceGetTemperatureV = 3000\n");
        // The sampler keeps publishing: GPU 2 goes stale, the others stay fresh.
        FakeNvml.eventually(Duration.ofSeconds(5), () -> given().get("/v1/gpus/2").then().statusCode(200)
                .body("status", equalTo("STALE")));
        given().get("/v1/gpus/1").then().body("status", equalTo("OK"));
        long worst = 0;
        for (int i = 0; i < 20; i++) {
            long t0 = System.nanoTime();
            String text = MetricsEndpointTest.scrape();
            worst = Math.max(worst, System.nanoTime() - t0);
            assertTrue(text.contains("DCGM_FI_DEV_GPU_TEMP{gpu=\"2\""), "a stale GPU keeps its last values");
        }
        // Generous: a scrape that waited for NVML would take 3 s.
        assertTrue(worst < Duration.ofSeconds(1).toNanos(), "slowest scrape " + worst / 1_000_000 + " ms");
        FakeNvml.eventually(Duration.ofSeconds(3), () -> assertTrue(snapshotAge(MetricsEndpointTest.scrape()) > 0.5,
                "gpu_agent_snapshot_age_seconds shows the stale reading"));
        given().get("/health").then().statusCode(200).body("gpus[2].state", equalTo("DEGRADED"));
    }

    @Test
    void malformedGpuIdsAreBadRequestsWithProblemDetails() {
        given().get("/v1/gpus/not-a-gpu").then().statusCode(400).contentType("application/problem+json")
                .body("status", equalTo(400)).body("detail", containsString("GET /v1/gpus"));
        given().get("/v1/gpus/42").then().statusCode(404).contentType("application/problem+json");
        given().get("/health/gpus/GPU-8a4e6f10-0042-4c2b-9d3e-5f7a1b2c3d4e").then().statusCode(404);
        // One spelling per GPU: what the driver would not write is malformed, not a guess (issue 19).
        for (String ambiguous : new String[] {"01", "+1", "%D9%A1", "GPU-8A4E6F10-0001-4C2B-9D3E-5F7A1B2C3D4E",
                "GPU-does-not-exist", "1".repeat(20)}) {
            given().urlEncodingEnabled(false).get("/v1/gpus/" + ambiguous).then().statusCode(400)
                    .body("detail", containsString("plain decimal"));
        }
        given().get("/v1/gpus/GPU-8a4e6f10-0001-4c2b-9d3e-5f7a1b2c3d4e").then().statusCode(200).body("index", equalTo(1));
    }

    static double snapshotAge(String text) {
        Matcher m = Pattern.compile("(?m)^gpu_agent_snapshot_age_seconds (\\S+)$").matcher(text);
        assertTrue(m.find(), "gpu_agent_snapshot_age_seconds missing");
        double age = Double.parseDouble(m.group(1));
        assertFalse(Double.isNaN(age));
        return age;
    }
}
