package io.gpuagent.agent;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.nvml.fake.FakeNvml;
import io.gpuagent.nvml.fake.Machines;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * No NVML library where the agent looks: it starts anyway, says why and what to do, and recovers by itself
 * once the library appears (as after a driver install).
 */
@QuarkusTest
@TestProfile(NvmlMissingTest.LibraryAppearsLater.class)
class NvmlMissingTest {

    static final Path LIBRARY = Path.of("target/nvml-appears-later/libnvidia-ml.so.1").toAbsolutePath();

    public static class LibraryAppearsLater implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            try {
                Files.deleteIfExists(LIBRARY);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            return Map.of("gpu-agent.nvml.library", LIBRARY.toString());
        }
    }

    @Test
    void startsWithoutNvmlReportsWhyAndRecoversWhenTheLibraryAppears() throws IOException {
        FakeNvml.write(Machines.dgxH100());
        given().get("/health").then().statusCode(503)
                .body("healthy", equalTo(false))
                .body("nvml.up", equalTo(false))
                .body("reason", containsString("NVML not found at " + LIBRARY))
                .body("reason", containsString("install the NVIDIA driver or set gpu-agent.nvml.library"));
        String text = MetricsEndpointTest.scrape();
        assertTrue(text.contains("gpu_agent_nvml_up 0.0"), text);
        assertTrue(!text.contains("DCGM_FI_DEV_GPU_TEMP{"), "no GPU series without NVML");
        given().get("/q/health/ready").then().statusCode(503);
        given().get("/q/health/live").then().statusCode(200);

        Files.createDirectories(LIBRARY.getParent());
        // Installed as a package manager does: written aside, then renamed into place. The agent's connect thread
        // may dlopen the path at any moment, and mapping a half-written library is a SIGBUS.
        Path aside = LIBRARY.resolveSibling(LIBRARY.getFileName() + ".part");
        Files.copy(FakeNvml.LIBRARY, aside, StandardCopyOption.REPLACE_EXISTING);
        Files.move(aside, LIBRARY, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        // Retry backoff in the test profile: 100 ms doubling up to 400 ms.
        FakeNvml.eventually(Duration.ofSeconds(10), () -> given().get("/health").then().statusCode(200)
                .body("nvml.up", equalTo(true)).body("gpus.size()", equalTo(8)));
        assertTrue(MetricsEndpointTest.scrape().contains("gpu_agent_nvml_up 1.0"));
    }
}
