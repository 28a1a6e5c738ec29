package io.gpuagent.agent.slurm;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.agent.Scenario;
import io.gpuagent.agent.TestToken;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** agent/slurm/gpu-agent-healthcheck against the running agent and a stub scontrol. */
@QuarkusTest
class HealthCheckProgramTest {

    @TempDir
    Path dir;
    SlurmScripts slurm;

    @BeforeEach
    void healthyNode() {
        slurm = new SlurmScripts(dir);
        Scenario.write("gpus = 8\n");
        Scenario.eventually(Duration.ofSeconds(10), () -> given().get("/health").then().statusCode(200));
    }

    @AfterEach
    void recover() {
        Scenario.write("gpus = 8\n");
        Scenario.eventually(Duration.ofSeconds(10), () -> given().get("/health/gpus/4").then().statusCode(200));
    }

    @Test
    void aHealthyNodeIsLeftAlone() {
        SlurmScripts.Run run = slurm.run("gpu-agent-healthcheck", Map.of());
        assertEquals(0, run.exit(), run.err());
        assertTrue(slurm.takeCalls().stream().noneMatch(c -> c.contains("update")), "no drain, no resume");
    }

    @Test
    void aLostGpuDrainsTheNodeWithTheAgentsReasonAndHealthResumesOnlyOurOwnDrain() {
        Scenario.write("gpus = 8\ngpu.4.lost = 1\n");
        Scenario.eventually(Duration.ofSeconds(10), () -> given().get("/health").then().statusCode(503));

        SlurmScripts.Run run = slurm.run("gpu-agent-healthcheck", Map.of());
        assertEquals(1, run.exit(), run.err());
        List<List<String>> calls = slurm.takeCalls();
        assertEquals(1, calls.size(), calls.toString());
        List<String> drain = calls.getFirst();
        assertEquals(List.of("update", "NodeName=node7", "State=DRAIN"), drain.subList(0, 3));
        String reason = drain.get(3);
        assertTrue(reason.startsWith("Reason=gpu-agent: GPU 4 (GPU-"), reason);
        assertTrue(reason.contains(") LOST: "), reason);
        assertTrue(reason.length() <= "Reason=".length() + 250, "kept short for sinfo: " + reason.length());

        // Healthy again: a drain by someone else stays ...
        Scenario.write("gpus = 8\n");
        given().header("Authorization", TestToken.header()).post("/v1/gpus/4/health/clear").then().statusCode(200);
        Scenario.eventually(Duration.ofSeconds(10), () -> given().get("/health").then().statusCode(200));
        slurm.nodeShows("NodeName=node7 State=IDLE+DRAIN\n   Reason=kernel upgrade [admin@2026-11-23T10:00:00]\n");
        assertEquals(0, slurm.run("gpu-agent-healthcheck", Map.of()).exit());
        assertEquals(List.of(List.of("show", "node", "node7")), slurm.takeCalls());

        // ... and ours is resumed.
        slurm.nodeShows("NodeName=node7 State=IDLE+DRAIN\n   Reason=gpu-agent: GPU 4 LOST [root@2026-11-23T10:00:00]\n");
        assertEquals(0, slurm.run("gpu-agent-healthcheck", Map.of()).exit());
        assertEquals(List.of(List.of("show", "node", "node7"), List.of("update", "NodeName=node7", "State=RESUME")),
                slurm.takeCalls());
    }

    @Test
    void anAgentThatDoesNotAnswerDrainsTheNode() {
        SlurmScripts.Run run = slurm.run("gpu-agent-healthcheck", Map.of("GPU_AGENT_URL", "http://127.0.0.1:9", "GPU_AGENT_TIMEOUT", "2"));
        assertEquals(1, run.exit(), run.err());
        List<List<String>> calls = slurm.takeCalls();
        assertEquals(1, calls.size(), calls.toString());
        assertTrue(calls.getFirst().get(3).startsWith("Reason=gpu-agent: agent not answering at http://127.0.0.1:9"),
                calls.toString());
        assertTrue(calls.getFirst().get(3).contains("systemctl status gpu-agent"), calls.toString());
    }
}
