package io.gpuagent.agent.kubernetes;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeCondition;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Taint;
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
import io.restassured.specification.RequestSpecification;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * GPU health in the node, against {@link MockApiServer} (fabric8's CRUD mock: real HTTP and JSON) and the fake
 * NVML driver driving the real health path: a lost GPU puts the GpuHealthy condition and the taint on the node,
 * enforce mode's drain cordons the node and evicts exactly the pods on that GPU (through two 429s), clearing the
 * GPU takes both away again and uncordons the node, and taints that are not the agent's survive all of it. With
 * the API server refusing, health and metrics go on and the outage is logged once.
 */
@QuarkusTest
@TestProfile(NodeHealthTest.KubernetesProfile.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NodeHealthTest {

    public static class KubernetesProfile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            TestToken.get();   // enforce mode refuses to start without a private token file
            return Map.of("gpu-agent.state-dir", "target/kubernetes/state-" + System.currentTimeMillis(),
                    "gpu-agent.recovery.mode", "enforce",
                    // No reset: the GPU stays lost until the test clears it.
                    "gpu-agent.recovery.policy.XID_79", "cordon,drain",
                    "gpu-agent.recovery.policy.GPU_IS_LOST", "cordon,drain",
                    "gpu-agent.recovery.policy.GPU_UNAVAILABLE", "cordon,drain",
                    "gpu-agent.recovery.drain-deadline", "4s",
                    "quarkus.log.category.\"io.gpuagent.agent.kubernetes\".level", "DEBUG",
                    "quarkus.log.category.\"io.fabric8.mockwebserver\".level", "WARN");
        }

        @Override
        public List<TestResourceEntry> testResources() {
            return List.of(new TestResourceEntry(MockApiServer.class));
        }
    }

    private static final Duration SOON = Duration.ofSeconds(20);
    private static final Duration WITHIN = Duration.ofSeconds(2);

    @Inject
    PodAttribution attribution;

    @Inject
    SamplerService sampler;

    @Test
    @Order(1)
    void aLostGpuTaintsTheNodeTheDrainEvictsOnlyItsPodsAndClearingUndoesBoth() {
        FakeNvml.eventually(SOON, () -> {
            assertEquals("True", condition().getStatus());
            assertEquals("GpusHealthy", condition().getReason());
        });
        assertNull(ourTaint(), "no taint while every GPU is healthy");

        String gpu3 = sampler.latest().gpus().get(3).uuid();
        String gpu5 = sampler.latest().gpus().get(5).uuid();
        PodRef a = pod("train-a");
        PodRef b = pod("train-b");
        PodRef other = pod("other");
        attribution.publish(new PodMap(Map.of(gpu3, List.of(a, b), gpu5, List.of(other))), Instant.now());
        MockApiServer.dispatcher.evictions.clear();
        MockApiServer.dispatcher.refuseEvictions.set(2);   // a PodDisruptionBudget says no twice

        FakeNvml.write("gpus = 8\nevent." + FakeNvml.nextEventNumber() + " = 3 xid 79\ngpu.3.lost = 1\n");
        FakeNvml.eventually(SOON, () -> assertFalse("HEALTHY".equals(gpuState(3)), "GPU 3 not judged yet"));
        FakeNvml.eventually(WITHIN, () -> {
            NodeCondition c = condition();
            assertEquals("False", c.getStatus());
            assertTrue(c.getReason().equals("GpuLost") || c.getReason().equals("GpuUnhealthy"), c.getReason());
            assertTrue(c.getMessage().contains("GPU 3 " + gpu3), c.getMessage());
            Taint t = ourTaint();
            assertNotNull(t, "the agent's taint");
            assertTrue(t.getValue().equals("LOST") || t.getValue().equals("UNHEALTHY"), t.getValue());
        });
        assertForeignTaintsAndReadyIntact();

        // Enforce mode: the policy's drain cordons the node and evicts the two pods on GPU 3, not the one on GPU 5.
        FakeNvml.eventually(SOON, () -> {
            assertNull(MockApiServer.client.pods().inNamespace("ml").withName("train-a").get(), "train-a evicted");
            assertNull(MockApiServer.client.pods().inNamespace("ml").withName("train-b").get(), "train-b evicted");
        });
        assertNotNull(MockApiServer.client.pods().inNamespace("ml").withName("other").get(), "the pod on GPU 5 stays");
        List<String> evictions = List.copyOf(MockApiServer.dispatcher.evictions);
        assertFalse(evictions.contains("ml/other"), evictions.toString());
        // First round: both refused (429); the next round evicts both. Nothing else was asked.
        assertEquals(List.of("ml/train-a", "ml/train-b", "ml/train-a", "ml/train-b"), evictions);
        assertTrue(Boolean.TRUE.equals(node().getSpec().getUnschedulable()), "the drain cordons the node");
        assertTrue(node().getMetadata().getAnnotations().containsKey(NodeDrain.CORDONED));
        String m = metrics();
        assertEquals(2, requests(m, "eviction", "blocked"), "the two 429s are counted: "
                + m.lines().filter(l -> l.startsWith("gpu_agent_kubernetes")).toList());
        assertEquals(2, requests(m, "eviction", "ok"), "and the two evictions");

        // Clear: the GPU reads again, an operator clears and uncordons it; condition, taint and cordon go.
        FakeNvml.write(Machines.dgxH100());
        FakeNvml.eventually(SOON, () -> {
            authed().post("/v1/gpus/3/health/clear");
            assertEquals("HEALTHY", gpuState(3));
            authed().post("/v1/gpus/3/uncordon").then().statusCode(200);
        });
        FakeNvml.eventually(WITHIN, () -> {
            assertEquals("True", condition().getStatus());
            assertNull(ourTaint(), "the agent's taint is removed");
        });
        FakeNvml.eventually(SOON, () -> assertFalse(Boolean.TRUE.equals(node().getSpec().getUnschedulable()),
                "uncordoned: the agent cordoned it"));
        assertFalse(node().getMetadata().getAnnotations() != null
                && node().getMetadata().getAnnotations().containsKey(NodeDrain.CORDONED));
        assertForeignTaintsAndReadyIntact();
        List<String> reasons = MockApiServer.client.v1().events().inNamespace("default").list().getItems().stream()
                .filter(e -> MockApiServer.NODE.equals(e.getInvolvedObject().getName())).map(e -> e.getReason()).toList();
        assertTrue(reasons.contains("GpuLost") || reasons.contains("GpuUnhealthy"), reasons.toString());
        assertTrue(reasons.contains("GpusHealthy"), reasons.toString());
        assertTrue(reasons.contains("GpuRecoveryDrain"), reasons.toString());
    }

    @Test
    @Order(2)
    void anApiServerThatRefusesLeavesHealthAndMetricsAloneAndIsLoggedOnce() {
        List<String> warnings = new CopyOnWriteArrayList<>();
        List<String> all = new CopyOnWriteArrayList<>();
        Handler handler = new Handler() {
            @Override
            public void publish(LogRecord r) {
                String text = r instanceof org.jboss.logmanager.ExtLogRecord x ? x.getFormattedMessage() : r.getMessage();
                all.add(String.valueOf(text));
                if (r.getLevel().intValue() >= Level.WARNING.intValue()) {
                    warnings.add(String.valueOf(text));
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger log = Logger.getLogger(ApiServer.class.getName());
        log.addHandler(handler);
        try {
            MockApiServer.dispatcher.refusing = true;
            FakeNvml.write("gpus = 8\nevent." + FakeNvml.nextEventNumber() + " = 2 xid 79\ngpu.2.lost = 1\n");
            FakeNvml.eventually(SOON, () -> assertFalse("HEALTHY".equals(gpuState(2)), "health goes on"));
            FakeNvml.eventually(SOON, () -> {
                String m = metrics();
                assertTrue(m.contains("gpu_agent_kubernetes_api_up 0.0"), "the outage shows");
                assertTrue(requests(m, null, "error") >= 3, "tried again with backoff");
            });
            assertEquals(1, warnings.stream().filter(w -> w.contains("kubernetes: the API server")).count(),
                    "one line per outage: " + warnings);
            assertTrue(warnings.getFirst().contains("HTTP 503"), warnings.getFirst());

            MockApiServer.dispatcher.refusing = false;
            FakeNvml.eventually(SOON, () -> {
                assertEquals("False", condition().getStatus());
                assertTrue(condition().getMessage().contains("GPU 2 "), condition().getMessage());
            });
            assertTrue(all.stream().anyMatch(l -> l.contains("answers again")), all.toString());
            assertTrue(all.stream().noneMatch(l -> l.contains(MockApiServer.TOKEN)), "the token is never logged");
        } finally {
            MockApiServer.dispatcher.refusing = false;
            log.removeHandler(handler);
            FakeNvml.write(Machines.dgxH100());
            FakeNvml.eventually(SOON, () -> {
                authed().post("/v1/gpus/2/health/clear");
                assertEquals("HEALTHY", gpuState(2));
                authed().post("/v1/gpus/2/uncordon").then().statusCode(200);
            });
        }
    }

    /** The sum of {@code gpu_agent_kubernetes_requests_total} over the series with this result (and kind, if given). */
    private static long requests(String metrics, String kind, String result) {
        return metrics.lines().filter(l -> l.startsWith("gpu_agent_kubernetes_requests_total{")
                        && l.contains("result=\"" + result + "\"") && (kind == null || l.contains("kind=\"" + kind + "\"")))
                .mapToLong(l -> (long) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    private static PodRef pod(String name) {
        Pod p = MockApiServer.client.pods().inNamespace("ml").resource(new PodBuilder().withNewMetadata().withName(name)
                .withNamespace("ml").withUid("uid-" + name).endMetadata().withNewSpec().withNodeName(MockApiServer.NODE)
                .addNewContainer().withName("main").withImage("trainer").endContainer().endSpec().build()).create();
        assertNotNull(p.getMetadata().getUid());
        return new PodRef("ml", name, "main", "");   // as the kubelet names it: no UID, so the drain reads the pod
    }

    private static void assertForeignTaintsAndReadyIntact() {
        Node n = node();
        List<Taint> taints = n.getSpec().getTaints();
        assertTrue(taints.contains(MockApiServer.FOREIGN), "someone else's taint survives: " + taints);
        assertTrue(taints.contains(MockApiServer.SAME_KEY_OTHER_EFFECT), "same key, other effect: not ours: " + taints);
        assertTrue(n.getStatus().getConditions().stream().anyMatch(c -> "Ready".equals(c.getType())
                && "True".equals(c.getStatus())), "the kubelet's condition survives");
    }

    private static Node node() {
        return MockApiServer.client.nodes().withName(MockApiServer.NODE).get();
    }

    private static NodeCondition condition() {
        Node n = node();
        List<NodeCondition> c = n.getStatus() == null || n.getStatus().getConditions() == null ? List.of()
                : n.getStatus().getConditions();
        return c.stream().filter(x -> "GpuHealthy".equals(x.getType())).findFirst()
                .orElseThrow(() -> new AssertionError("no GpuHealthy condition yet: " + c));
    }

    private static Taint ourTaint() {
        List<Taint> taints = node().getSpec().getTaints();
        return taints == null ? null : taints.stream()
                .filter(t -> Taints.KEY.equals(t.getKey()) && "NoSchedule".equals(t.getEffect())).findFirst().orElse(null);
    }

    private static String gpuState(int index) {
        List<Map<String, Object>> gpus = given().get("/health").then().extract().jsonPath().getList("gpus");
        return (String) gpus.get(index).get("state");
    }

    private static String metrics() {
        return given().get("/metrics").then().statusCode(200).extract().asString();
    }

    private static RequestSpecification authed() {
        return given().header("Authorization", "Bearer " + TestToken.get()).contentType("application/json");
    }
}
