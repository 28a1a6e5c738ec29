package io.gpuagent.agent.health;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import io.gpuagent.agent.TestToken;
import io.gpuagent.nvml.fake.FakeNvml;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.quarkus.test.junit.QuarkusTestProfile;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.regex.Pattern;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The node checks end to end over the faulty fixture tree (src/test/resources/host/dgx-h100-faults) and the fake
 * driver with 7 of 8 expected GPUs: the kmod/driver mismatch, the missing GPU and the D-state holder show in
 * /health with their fix, /health/node lists every check, and gpu_agent_node_check says which fail.
 */
@QuarkusTest
@TestProfile(NodeChecksApiTest.Faulty.class)
class NodeChecksApiTest {

    public static class Faulty implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("gpu-agent.health.node.enabled", "true",
                    "gpu-agent.health.node.root", "src/test/resources/host/dgx-h100-faults",
                    "gpu-agent.health.node.interval", "300ms",
                    "gpu-agent.health.node.holder-limit", "0s",
                    "gpu-agent.health.expected-gpus", "8",
                    "gpu-agent.health.ib.expected-ports", "8",
                    "gpu-agent.health.ib.expected-rate-gbps", "400");
        }
    }

    @Test
    void nodeFaultsShowInHealthWithTheirFixAndInMetrics() {
        FakeNvml.write("gpus = 7\n");
        FakeNvml.eventually(Duration.ofSeconds(10), () -> given().get("/health").then().statusCode(503)
                .body("node.state", equalTo("UNHEALTHY"))
                .body("reason", containsString("node kernel_module UNHEALTHY: the loaded nvidia kernel module is 570.124.06"))
                .body("reason", containsString("node gpu_count UNHEALTHY: the driver sees 7 of 8 expected GPUs"))
                .body("reason", containsString("node device_holders UNHEALTHY: 1 process(es) stuck in D state"))
                .body("reason", containsString("node ib_ports ib_port:mlx5_3/1 UNHEALTHY")));
        given().get("/health/node").then().statusCode(503)
                .body("checks.size()", equalTo(14))
                .body("checks.find { it.check == 'ib_rate' }.state", equalTo("DEGRADED"))
                .body("reasons.find { it.code == 'GPU_MISSING' }.action", containsString("reseat or replace the GPU"));
        String metrics = given().get("/metrics").then().statusCode(200).extract().asString();
        assertTrue(Pattern.compile("gpu_agent_node_check\\{check=\"kernel_module\",?} 2\\.0").matcher(metrics).find(),
                metrics);
        assertTrue(Pattern.compile("gpu_agent_node_check_reasons\\{check=\"gpu_count\",code=\"GPU_MISSING\",?} 1\\.0")
                .matcher(metrics).find(), metrics);
        assertTrue(Pattern.compile("gpu_agent_ib_port_up\\{device=\"mlx5_3\",port=\"1\",?} 0\\.0").matcher(metrics).find());
        // the node's change is an event without a GPU
        given().get("/v1/events").then().statusCode(200)
                .body("events.find { it.kind == 'state' && it.state == 'UNHEALTHY' && it.gpu == null }.message",
                        containsString("node "));
        // a clear keeps what the latest sweep still sees, and needs the operator's token
        given().post("/v1/node/health/clear").then().statusCode(401);
        given().header("Authorization", TestToken.header()).contentType("application/json").body("{\"reason\":\"checked\"}")
                .post("/v1/node/health/clear").then().statusCode(200).body("state", equalTo("UNHEALTHY"));
        FakeNvml.write("gpus = 8\n");
    }
}
