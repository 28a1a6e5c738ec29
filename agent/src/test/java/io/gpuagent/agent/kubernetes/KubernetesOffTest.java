package io.gpuagent.agent.kubernetes;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

/** The default: no client, no {@code kubernetes-node} thread, no Kubernetes series. */
@QuarkusTest
class KubernetesOffTest {

    @Inject
    ApiServer api;

    @Test
    void offByDefaultNothingConnectsOrRuns() {
        assertFalse(api.enabled());
        assertTrue(Thread.getAllStackTraces().keySet().stream().noneMatch(t -> t.getName().equals("kubernetes-node")));
        String metrics = given().get("/metrics").then().statusCode(200).extract().asString();
        assertFalse(metrics.contains("gpu_agent_kubernetes_"), "no Kubernetes series while off");
    }
}
