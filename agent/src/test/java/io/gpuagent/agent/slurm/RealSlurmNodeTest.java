package io.gpuagent.agent.slurm;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.agent.TestToken;
import io.gpuagent.agent.lease.Cordons;
import io.gpuagent.agent.lease.LeaseTestSupport;
import io.gpuagent.nvml.fake.FakeNvml;
import io.gpuagent.nvml.fake.Machines;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.RestAssured;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * docs/node-health.md, Slurm: a real slurmd's health check drains the node on node faults the agent finds under the
 * GPUs with every GPU healthy (the nvidia kernel module of another version than NVML's driver, a process stuck in D
 * state on /dev/nvidia*, an InfiniBand port down or at the wrong rate), and resumes it once they are fixed and cleared. (A GPU missing at
 * start is judged the same way: NodeChecksApiTest.) The agent's node checks read a copy
 * of the healthy DGX fixture tree, which the test breaks with the faulty tree's files and mends again.
 */
@QuarkusTest
@TestProfile(RealSlurmNodeTest.NodeChecksOn.class)
class RealSlurmNodeTest {

    static final Path HOST = Path.of("target", "real-slurm-node-host").toAbsolutePath();
    static final Path HEALTHY = Path.of("src/test/resources/host/dgx-h100");
    static final Path FAULTY = Path.of("src/test/resources/host/dgx-h100-faults");

    public static class NodeChecksOn implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            replaceTree(HEALTHY);   // before the agent starts, so its first node sweep reads a healthy node
            return Map.of("gpu-agent.health.node.enabled", "true",
                    "gpu-agent.health.node.root", HOST.toString(),
                    "gpu-agent.health.node.interval", "300ms",
                    "gpu-agent.health.node.holder-limit", "0s",
                    "gpu-agent.health.expected-gpus", "8",
                    "gpu-agent.health.ib.expected-ports", "8",
                    "gpu-agent.health.ib.expected-rate-gbps", "400",
                    // the faulty tree's flapping port stays flapping for its window after the fix: not this test's
                    "gpu-agent.health.ib.flap-limit", "1000");
        }
    }

    private static RealSlurm slurm;

    @Inject
    Cordons cordons;

    @AfterAll
    static void stopSlurm() throws Exception {
        if (slurm != null) {
            slurm.close();
            slurm = null;
        }
    }

    @Test
    void nodeFaultsDrainTheNodeAndTheirFixResumesIt() throws Exception {
        RealSlurm.require();
        slurm = RealSlurm.start(SlurmScripts.SCRIPTS);
        slurm.settings(RestAssured.port, TestToken.FILE);
        TestToken.get();
        LeaseTestSupport.freshNode(cordons);
        FakeNvml.write(Machines.dgxH100());
        FakeNvml.eventually(Duration.ofSeconds(15), () -> given().get("/health").then().statusCode(200));
        slurm.resume();
        slurm.waitFor(Duration.ofSeconds(30), () -> slurm.nodeState().equals("IDLE"), "node IDLE");

        replaceTree(FAULTY);   // every GPU still there: only the node is at fault
        long broken = System.nanoTime();
        slurm.waitFor(Duration.ofSeconds(20), () -> slurm.nodeState().contains("DRAIN"), "the node drained");
        long drainedMs = (System.nanoTime() - broken) / 1_000_000;
        String reason = slurm.nodeReason();
        assertTrue(reason.startsWith("gpu-agent: "), reason);
        String health = given().get("/health").then().statusCode(503).extract().asString();
        assertTrue(health.contains("kernel_module") && health.contains("device_holders"), health);

        replaceTree(HEALTHY);
        FakeNvml.write(Machines.dgxH100());
        FakeNvml.eventually(Duration.ofSeconds(15), () -> {
            given().header("Authorization", TestToken.header()).contentType("application/json")
                    .body("{\"reason\":\"fixed\"}").post("/v1/node/health/clear").then().statusCode(200);
            given().get("/health").then().statusCode(200);
        });
        long back = System.nanoTime();
        slurm.waitFor(Duration.ofSeconds(20), () -> !slurm.nodeState().contains("DRAIN"), "the node resumed");
        assertEquals("", slurm.nodeReason());
        System.out.printf("real Slurm: node faults -> node drained in %d ms; fixed -> resumed in %d ms%n", drainedMs,
                (System.nanoTime() - back) / 1_000_000);
        LeaseTestSupport.freshNode(cordons);
    }

    /** Makes {@link #HOST} a copy of {@code tree}, whole (files the other tree has and this one lacks go). */
    static void replaceTree(Path tree) {
        try {
            if (Files.exists(HOST)) {
                try (Stream<Path> all = Files.walk(HOST)) {
                    for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                        Files.delete(p);
                    }
                }
            }
            try (Stream<Path> all = Files.walk(tree)) {
                for (Path p : all.toList()) {
                    Path to = HOST.resolve(tree.relativize(p).toString());
                    if (Files.isSymbolicLink(p)) {
                        Files.createSymbolicLink(to, Files.readSymbolicLink(p));
                    } else if (Files.isDirectory(p)) {
                        Files.createDirectories(to);
                    } else {
                        Files.copy(p, to, StandardCopyOption.REPLACE_EXISTING);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
