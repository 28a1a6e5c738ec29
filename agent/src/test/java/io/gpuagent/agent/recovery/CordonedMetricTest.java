package io.gpuagent.agent.recovery;

import static io.gpuagent.agent.recovery.RecoveryTestSupport.SOON;
import static io.gpuagent.agent.recovery.RecoveryTestSupport.authed;
import static io.gpuagent.agent.recovery.RecoveryTestSupport.metrics;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.nvml.fake.FakeNvml;
import io.gpuagent.nvml.fake.Machines;
import io.quarkus.test.junit.QuarkusTest;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@code gpu_agent_gpu_cordoned{gpu,UUID}} on {@code /metrics}: 0 for every GPU, 1 exactly while one is cordoned. */
@QuarkusTest
class CordonedMetricTest {

    @AfterEach
    void restore() {
        RecoveryTestSupport.restoreAll();
    }

    @Test
    void oneGaugePerGpuThatIsOneOnlyWhileTheGpuIsCordoned() {
        FakeNvml.write(Machines.dgxH100());
        FakeNvml.eventually(SOON, () -> assertEquals(expected(-1), cordonedLines()));
        assertTrue(metrics().contains("# TYPE gpu_agent_gpu_cordoned gauge\n"), "a gauge");

        String uuid = authed().body("{\"reason\": \"metric test\"}").post("/v1/gpus/3/cordon").then().statusCode(200)
                .extract().jsonPath().getString("uuid");
        assertEquals(uuidOf(3), uuid, "the fake driver's UUID of GPU 3");
        assertEquals(expected(3), cordonedLines(), "set with the cordon, not a sweep later");

        authed().post("/v1/gpus/3/uncordon").then().statusCode(200);
        assertEquals(expected(-1), cordonedLines());
    }

    /** The series of the 8 fake GPUs, GPU {@code cordoned} at 1 (-1: none), in Micrometer's label order. */
    private static List<String> expected(int cordoned) {
        return IntStream.range(0, 8).mapToObj(i -> "gpu_agent_gpu_cordoned{UUID=\"" + uuidOf(i) + "\",gpu=\"" + i + "\",} "
                + (i == cordoned ? "1.0" : "0.0")).sorted().toList();
    }

    private static List<String> cordonedLines() {
        return metrics().lines().filter(l -> l.startsWith("gpu_agent_gpu_cordoned{")).sorted().toList();
    }

    /** The fake driver's default UUID of GPU {@code i} (native-bindings/README.md). */
    private static String uuidOf(int i) {
        return "GPU-8a4e6f10-%04x-4c2b-9d3e-5f7a1b2c3d4e".formatted(i);
    }
}
