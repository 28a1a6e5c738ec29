package io.gpuagent.agent;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.gpuagent.nvml.fake.FakeNvml;
import io.gpuagent.nvml.fake.Machines;
import io.quarkus.test.junit.QuarkusTest;
import java.time.Duration;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@code gpu_agent_nvlink_links_active{gpu,UUID}} on the fake driver: 18 links per H100, one fewer when one goes down. */
@QuarkusTest
class NvLinkMetricTest {

    /** The link back up, and GPU 6 healthy again (the hysteresis of the test profile), for the next test. */
    @AfterEach
    void restore() {
        HealthyNode.restore("/health/gpus/6", Duration.ofSeconds(20));
    }

    @Test
    void activeLinksPerGpuDropWhenALinkGoesDown() {
        FakeNvml.write(Machines.dgxH100());
        FakeNvml.eventually(Duration.ofSeconds(10), () -> assertEquals(expected(-1), lines()));
        FakeNvml.write("gpus = 8\ngpu.6.nvlink.3.active = 0\n");
        FakeNvml.eventually(Duration.ofSeconds(10), () -> assertEquals(expected(6), lines()));
    }

    /** The fake's 8 GPUs with 18 links each, GPU {@code down} with one link down (-1: none). */
    private static List<String> expected(int down) {
        return IntStream.range(0, 8).mapToObj(i -> "gpu_agent_nvlink_links_active{UUID=\"GPU-8a4e6f10-%04x-4c2b-9d3e-5f7a1b2c3d4e\",gpu=\"%d\",} %s"
                .formatted(i, i, i == down ? "17.0" : "18.0")).sorted().toList();
    }

    private static List<String> lines() {
        return given().get("/metrics").then().statusCode(200).extract().asString().lines()
                .filter(l -> l.startsWith("gpu_agent_nvlink_links_active{")).sorted().toList();
    }
}
