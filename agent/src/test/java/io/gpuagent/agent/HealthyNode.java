package io.gpuagent.agent;

import static io.restassured.RestAssured.given;

import io.gpuagent.nvml.fake.FakeNvml;
import io.gpuagent.nvml.fake.Machines;
import java.time.Duration;

/** Puts the fake back on a healthy DGX H100 for the next test, and waits until the agent says so. */
public final class HealthyNode {
    private HealthyNode() {
    }

    /** Until {@code healthPath} ({@code /health} or {@code /health/gpus/<i>}) answers 200, within {@code timeout}. */
    public static void restore(String healthPath, Duration timeout) {
        FakeNvml.write(Machines.dgxH100());
        FakeNvml.eventually(timeout, () -> given().get(healthPath).then().statusCode(200));
    }
}
