package io.gpuagent.agent.kubernetes;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeCondition;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.gpuagent.agent.TestToken;
import io.gpuagent.agent.kubelet.PodMap;
import io.gpuagent.agent.kubelet.PodRef;
import io.gpuagent.agent.sampler.PodAttribution;
import io.gpuagent.agent.sampler.SamplerService;
import io.gpuagent.nvml.fake.FakeNvml;
import io.gpuagent.nvml.fake.Machines;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Observe mode with {@code mode=condition-only}: a lost GPU still sets the condition, but no taint is written,
 * the node is not cordoned and no pod is evicted; the audit log's recommended drain says what enforce mode would
 * do in the cluster.
 */
@QuarkusTest
@TestProfile(NodeObserveTest.ObserveProfile.class)
class NodeObserveTest {

    public static class ObserveProfile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            TestToken.get();
            return Map.of("gpu-agent.state-dir", "target/kubernetes/observe-" + System.currentTimeMillis(),
                    "gpu-agent.recovery.mode", "observe",
                    "gpu-agent.kubernetes.mode", "condition-only",
                    "quarkus.log.category.\"io.fabric8.mockwebserver\".level", "WARN");
        }

        @Override
        public List<TestResourceEntry> testResources() {
            return List.of(new TestResourceEntry(MockApiServer.class));
        }
    }

    private static final Duration SOON = Duration.ofSeconds(20);

    @Inject
    PodAttribution attribution;

    @Inject
    SamplerService sampler;

    @Test
    void observeModeRecordsTheDrainItWouldDoAndConditionOnlyWritesNoTaint() {
        String gpu4 = sampler.latest().gpus().get(4).uuid();
        MockApiServer.client.pods().inNamespace("ml").resource(new PodBuilder().withNewMetadata().withName("train-c")
                .withNamespace("ml").withUid("uid-c").endMetadata().withNewSpec().addNewContainer().withName("main")
                .withImage("trainer").endContainer().endSpec().build()).create();
        attribution.publish(new PodMap(Map.of(gpu4, List.of(new PodRef("ml", "train-c", "main", "uid-c")))), Instant.now());
        try {
            FakeNvml.write("gpus = 8\nevent." + FakeNvml.nextEventNumber() + " = 4 xid 79\ngpu.4.lost = 1\n");
            FakeNvml.eventually(SOON, () -> {
                NodeCondition c = condition();
                assertEquals("False", c.getStatus());
                assertTrue(c.getMessage().contains("GPU 4 " + gpu4), c.getMessage());
            });
            FakeNvml.eventually(SOON, () -> {
                List<Map<String, Object>> lines = given().queryParam("gpu", 4).queryParam("limit", 100).get("/v1/actions")
                        .then().statusCode(200).extract().jsonPath().getList("actions");
                assertTrue(lines.stream().anyMatch(l -> "drain".equals(l.get("step")) && "recommended".equals(l.get("result"))
                        && String.valueOf(l.get("detail")).contains("would cordon node test-node and evict ml/train-c")),
                        lines.toString());
            });
            Node n = MockApiServer.client.nodes().withName(MockApiServer.NODE).get();
            assertFalse(Boolean.TRUE.equals(n.getSpec().getUnschedulable()), "observe mode cordons nothing");
            assertTrue(n.getSpec().getTaints().stream().noneMatch(t -> Taints.KEY.equals(t.getKey())
                    && "NoSchedule".equals(t.getEffect())), "condition-only: no taint of ours");
            assertNotNull(MockApiServer.client.pods().inNamespace("ml").withName("train-c").get(), "nothing evicted");
            assertEquals(List.of(), MockApiServer.dispatcher.evictions);
        } finally {
            attribution.publish(PodMap.EMPTY, Instant.now());
            FakeNvml.write(Machines.dgxH100());
            FakeNvml.eventually(SOON, () -> {
                given().header("Authorization", "Bearer " + TestToken.get()).contentType("application/json")
                        .post("/v1/gpus/4/health/clear");
                List<Map<String, Object>> gpus = given().get("/health").then().extract().jsonPath().getList("gpus");
                assertEquals("HEALTHY", gpus.get(4).get("state"));
            });
        }
    }

    private static NodeCondition condition() {
        Node n = MockApiServer.client.nodes().withName(MockApiServer.NODE).get();
        List<NodeCondition> c = n.getStatus() == null || n.getStatus().getConditions() == null ? List.of()
                : n.getStatus().getConditions();
        return c.stream().filter(x -> "GpuHealthy".equals(x.getType())).findFirst()
                .orElseThrow(() -> new AssertionError("no GpuHealthy condition yet: " + c));
    }
}
