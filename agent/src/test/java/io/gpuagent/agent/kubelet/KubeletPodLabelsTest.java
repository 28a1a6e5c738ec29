package io.gpuagent.agent.kubelet;

import static io.gpuagent.agent.kubelet.FakeKubelet.container;
import static io.gpuagent.agent.kubelet.FakeKubelet.pod;
import static io.gpuagent.agent.kubelet.FakeKubelet.pods;
import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.nvml.fake.FakeNvml;
import io.gpuagent.nvml.fake.Machines;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The agent with pod attribution on, against the fake kubelet on a unix socket and the fake NVML driver: pod labels
 * on the GPU series of whole GPUs and of MIG devices, in {@code /v1/gpus}, and scrapes that never wait for a hung
 * kubelet.
 */
@QuarkusTest
@TestProfile(KubeletPodLabelsTest.WithKubelet.class)
class KubeletPodLabelsTest {

    /** Under the temporary directory (a unix socket's path is short); one per JVM, so the profile and test agree. */
    static final Path SOCKET = Path.of(System.getProperty("java.io.tmpdir"),
            "gpu-agent-kubelet-" + ProcessHandle.current().pid(), "kubelet.sock");

    /** The refresher's deadline: long, so that a scrape during a hung call is seen to not wait for it. */
    static final Duration DEADLINE = Duration.ofSeconds(3);

    public static class WithKubelet implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("gpu-agent.kubelet.enabled", "true",
                    "gpu-agent.kubelet.socket", SOCKET.toString(),
                    "gpu-agent.kubelet.refresh-interval", "200ms",
                    "gpu-agent.kubelet.deadline", DEADLINE.toMillis() + "ms");
        }
    }

    static FakeKubelet kubelet;

    @BeforeEach
    void kubeletUp() {
        if (kubelet == null) {
            // GetAllocatableResources from the first call: a kubelet that answers UNIMPLEMENTED is not asked again.
            kubelet = new FakeKubelet(SOCKET).offer(FakeKubelet.allocatable("nvidia.com/gpu")).start();
        }
        kubelet.answer(pods());
    }

    @AfterEach
    void wholeGpusAgain() {
        FakeNvml.write(Machines.dgxH100());
    }

    @AfterAll
    static void kubeletDown() throws java.io.IOException {
        if (kubelet != null) {
            kubelet.close();
            kubelet = null;
        }
        java.nio.file.Files.deleteIfExists(SOCKET.getParent());
    }

    static String scrape() {
        return given().when().get("/metrics").then().statusCode(200).extract().asString();
    }

    /** The GPU family's series of metric {@code name} whose labels contain every one of {@code labels}. */
    static List<String> series(String text, String name, String... labels) {
        return text.lines().filter(l -> l.startsWith(name + "{"))
                .filter(l -> List.of(labels).stream().allMatch(l::contains)).toList();
    }

    private static final String TRAIN = ",pod=\"train\",namespace=\"ml\",container=\"main\"}";

    /** GPU {@code index}'s UUID as the agent reads it, once it reads the GPU whole. */
    private static String uuidOfGpu(int index) {
        String[] uuid = new String[1];
        FakeNvml.eventually(Duration.ofSeconds(20), () -> {
            var view = given().get("/v1/gpus/" + index).then().statusCode(200).extract().jsonPath();
            assertEquals(List.of(), view.getList("migDevices"), "GPU " + index + " whole");
            uuid[0] = view.getString("uuid");
            assertTrue(uuid[0].startsWith("GPU-"), uuid[0]);
        });
        return uuid[0];
    }

    @Test
    void wholeGpusCarryThePodsThatHoldThem() {
        FakeNvml.write(Machines.dgxH100());
        String gpu5 = uuidOfGpu(5);
        kubelet.offer(FakeKubelet.allocatable("nvidia.com/gpu", gpu5));
        kubelet.answer(pods(pod("ml", "train", container("main", "nvidia.com/gpu", gpu5))));
        FakeNvml.eventually(Duration.ofSeconds(10), () -> {
            assertEquals(true, given().get("/v1/gpus/5").then().statusCode(200).extract().jsonPath()
                    .get("allocatable"));
            String text = scrape();
            List<String> held = series(text, "DCGM_FI_DEV_GPU_TEMP", "gpu=\"5\"");
            assertEquals(1, held.size(), text);
            assertTrue(held.getFirst().contains(TRAIN), held.getFirst());
            assertFalse(series(text, "DCGM_FI_DEV_GPU_TEMP", "gpu=\"4\"").getFirst().contains("pod="),
                    "GPU 4 is no pod's");
        });
        assertEquals(List.of(Map.of("namespace", "ml", "pod", "train", "container", "main")),
                given().get("/v1/gpus/5").then().statusCode(200).extract().jsonPath().getList("pods"));
        assertEquals(List.of(), given().get("/v1/gpus/4").then().statusCode(200).extract().jsonPath().getList("pods"));
        assertEquals(false, given().get("/v1/gpus/4").then().statusCode(200).extract().jsonPath().get("allocatable"));
    }

    @Test
    @SuppressWarnings("unchecked")
    void anEventOfAHeldGpuNamesItsPods() {
        FakeNvml.write(Machines.dgxH100());
        String gpu5 = uuidOfGpu(5);
        kubelet.answer(pods(pod("ml", "train", container("main", "nvidia.com/gpu", gpu5))));
        FakeNvml.eventually(Duration.ofSeconds(10), () -> assertEquals(1, given().get("/v1/gpus/5").then()
                .statusCode(200).extract().jsonPath().getList("pods").size()));
        long since = given().get("/v1/events").then().statusCode(200).extract().jsonPath()
                .getList("events.id", Long.class).stream().mapToLong(Long::longValue).max().orElse(0);

        FakeNvml.write(Machines.dgxH100().gpu(5, "temp", 86));   // near the slowdown threshold: DEGRADED
        FakeNvml.eventually(Duration.ofSeconds(10), () -> {
            List<Map<String, Object>> events = given().queryParam("since", since).queryParam("gpu", 5)
                    .get("/v1/events").then().statusCode(200).extract().jsonPath().getList("events");
            Map<String, Object> degraded = events.stream().filter(e -> "DEGRADED".equals(e.get("state"))).findFirst()
                    .orElseThrow(() -> new AssertionError("no DEGRADED event of GPU 5: " + events));
            assertEquals(List.of(Map.of("namespace", "ml", "pod", "train", "container", "main")), degraded.get("pods"));
        });
        List<Map<String, Object>> gpu4 = given().queryParam("since", since).queryParam("gpu", 4).get("/v1/events")
                .then().statusCode(200).extract().jsonPath().getList("events");
        assertTrue(gpu4.stream().noneMatch(e -> e.containsKey("pods")), "GPU 4 is no pod's: " + gpu4);
    }

    @Test
    @SuppressWarnings("unchecked")
    void migDevicesCarryThePodsThatHoldThem() {
        FakeNvml.write(Machines.h100Mig());
        String[] gi7 = new String[1];
        FakeNvml.eventually(Duration.ofSeconds(20), () -> {
            List<Map<String, Object>> mig = given().get("/v1/gpus/0").then().statusCode(200).extract().jsonPath()
                    .getList("migDevices");
            gi7[0] = (String) mig.stream().filter(m -> ((Number) m.get("gpuInstanceId")).intValue() == 7).findFirst()
                    .orElseThrow(() -> new AssertionError("GPU 0 has no GPU instance 7 yet: " + mig)).get("uuid");
        });
        kubelet.answer(pods(pod("ml", "small", container("side", "nvidia.com/mig-1g.10gb", gi7[0]))));
        FakeNvml.eventually(Duration.ofSeconds(10), () -> {
            String text = scrape();
            List<String> held = series(text, "DCGM_FI_DEV_FB_USED", "gpu=\"0\"", "GPU_I_ID=\"7\"");
            assertEquals(1, held.size(), text);
            assertTrue(held.getFirst().contains(",pod=\"small\",namespace=\"ml\",container=\"side\"}"), held.getFirst());
            List<String> sibling = series(text, "DCGM_FI_DEV_FB_USED", "gpu=\"0\"", "GPU_I_ID=\"2\"");
            assertEquals(1, sibling.size(), text);
            assertFalse(sibling.getFirst().contains("pod="), "GPU instance 2 is no pod's: " + sibling);
        });
        assertEquals(List.of(Map.of("namespace", "ml", "pod", "small", "container", "side")),
                given().get("/v1/gpus/" + gi7[0]).then().statusCode(200).extract().jsonPath().getList("pods"));
        assertEquals(List.of(Map.of("namespace", "ml", "pod", "small", "container", "side")),
                given().get("/v1/gpus/0/7").then().statusCode(200).extract().jsonPath().getList("pods"));
    }

    @Test
    void aScrapeDuringAHungKubeletHasTheLastGoodLabelsAndNewOnesFollowRecovery() {
        FakeNvml.write(Machines.dgxH100());
        String gpu5 = uuidOfGpu(5);
        kubelet.answer(pods(pod("ml", "train", container("main", "nvidia.com/gpu", gpu5))));
        FakeNvml.eventually(Duration.ofSeconds(10), () -> assertTrue(
                series(scrape(), "DCGM_FI_DEV_GPU_TEMP", "gpu=\"5\"").getFirst().contains(TRAIN)));

        kubelet.hang();
        int before = kubelet.calls();
        FakeNvml.await(() -> kubelet.calls() > before + 1, "a call to the hung kubelet");   // the second surely hangs
        long start = System.nanoTime();
        String during = scrape();
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertTrue(took.compareTo(DEADLINE) < 0, "the scrape waited for the kubelet: " + took);
        assertTrue(series(during, "DCGM_FI_DEV_GPU_TEMP", "gpu=\"5\"").getFirst().contains(TRAIN), during);

        FakeNvml.eventually(DEADLINE.plusSeconds(5), () -> {
            String text = scrape();
            assertTrue(text.lines().anyMatch(l -> l.startsWith("gpu_agent_kubelet_refresh_failures_total{reason=\"deadline\"")
                    && !l.endsWith(" 0.0")), "a deadline failure counted: " + text);
        });
        kubelet.answer(pods(pod("web", "serve", container("api", "nvidia.com/gpu", gpu5))));
        FakeNvml.eventually(DEADLINE.plusSeconds(5), () -> assertTrue(series(scrape(), "DCGM_FI_DEV_GPU_TEMP",
                "gpu=\"5\"").getFirst().contains(",pod=\"serve\",namespace=\"web\",container=\"api\"}")));
        assertTrue(scrape().contains("gpu_agent_kubelet_mapping_age_seconds "), "the age of the last good map");
    }
}
