package io.gpuagent.agent.slurm;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.gpuagent.agent.TestToken;
import io.gpuagent.agent.HealthyNode;
import io.gpuagent.nvml.fake.FakeNvml;
import io.gpuagent.nvml.fake.Machines;
import io.quarkus.test.junit.QuarkusTest;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
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
        HealthyNode.restore("/health", Duration.ofSeconds(10));
    }

    @AfterEach
    void recover() {
        HealthyNode.restore("/health/gpus/4", Duration.ofSeconds(10));
    }

    @Test
    void aHealthyNodeIsLeftAlone() {
        SlurmScripts.Run run = slurm.run("gpu-agent-healthcheck", Map.of());
        assertEquals(0, run.exit(), run.err());
        assertTrue(slurm.takeCalls().stream().noneMatch(c -> c.contains("update")), "no drain, no resume");
    }

    @Test
    void aLostGpuDrainsTheNodeWithTheAgentsReasonAndHealthResumesOnlyOurOwnDrain() {
        FakeNvml.write(Machines.dgxH100().lost(4));
        FakeNvml.eventually(Duration.ofSeconds(10), () -> given().get("/health").then().statusCode(503));

        SlurmScripts.Run run = slurm.run("gpu-agent-healthcheck", Map.of());
        assertEquals(1, run.exit(), run.err());
        List<List<String>> calls = slurm.takeCalls();
        assertEquals(2, calls.size(), calls.toString());
        assertEquals(List.of("show", "node", "node7"), calls.getFirst(), "first: is the node drained already, and by whom");
        List<String> drain = calls.get(1);
        assertEquals(List.of("update", "NodeName=node7", "State=DRAIN"), drain.subList(0, 3));
        String reason = drain.get(3);
        assertTrue(reason.startsWith("Reason=gpu-agent: GPU 4 (GPU-"), reason);
        assertTrue(reason.contains(") LOST: "), reason);
        assertTrue(reason.length() <= "Reason=".length() + 250, "kept short for sinfo: " + reason.length());

        // Healthy again: a drain by someone else stays ...
        FakeNvml.write(Machines.dgxH100());
        given().header("Authorization", TestToken.header()).post("/v1/gpus/4/health/clear").then().statusCode(200);
        FakeNvml.eventually(Duration.ofSeconds(10), () -> given().get("/health").then().statusCode(200));
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
    void anAgentThatDoesNotAnswerDrainsTheNodeOnlyAfterThreeRunsInARow() {
        Map<String, String> down = Map.of("GPU_AGENT_URL", "http://127.0.0.1:9", "GPU_AGENT_TIMEOUT", "2");
        for (int n = 1; n <= 2; n++) {
            SlurmScripts.Run run = slurm.run("gpu-agent-healthcheck", down);
            assertEquals(1, run.exit(), run.err());
            assertTrue(run.err().contains("failure " + n + " of 3 in a row"), run.err());
            assertEquals(List.of(), slurm.takeCalls(), "run " + n + ": not even a look at the node");
        }
        // One good answer starts the count again (an agent restart, a disk full for a moment).
        assertEquals(0, slurm.run("gpu-agent-healthcheck", Map.of()).exit());
        slurm.takeCalls();
        for (int n = 1; n <= 2; n++) {
            assertTrue(slurm.run("gpu-agent-healthcheck", down).err().contains("failure " + n + " of 3"));
        }
        assertEquals(List.of(), slurm.takeCalls());
        SlurmScripts.Run run = slurm.run("gpu-agent-healthcheck", down);
        assertEquals(1, run.exit(), run.err());
        List<List<String>> calls = slurm.takeCalls();
        assertEquals(2, calls.size(), calls.toString());
        assertTrue(calls.get(1).get(3).startsWith("Reason=gpu-agent: agent not answering at http://127.0.0.1:9"),
                calls.toString());
        assertTrue(calls.get(1).get(3).contains("systemctl status gpu-agent"), calls.toString());
        // GPU_AGENT_FAIL_THRESHOLD=1: the old behaviour, at once.
        slurm.nodeShows("NodeName=node7 State=IDLE\n");
        assertEquals(0, slurm.run("gpu-agent-healthcheck", Map.of()).exit());
        slurm.takeCalls();
        assertEquals(1, slurm.run("gpu-agent-healthcheck", Map.of("GPU_AGENT_URL", "http://127.0.0.1:9",
                "GPU_AGENT_FAIL_THRESHOLD", "1")).exit());
        assertEquals(2, slurm.takeCalls().size());
    }

    /**
     * Issue 19: a journal refused by a full /var made /health 503 and the node drained at once. The agent's own
     * problems wait for the threshold; a GPU gone from the driver (problem "gpus") does not. /health as the agent
     * writes it, from a listener of ours (the agent's user, as far as the script can tell).
     */
    @Test
    void theAgentsOwnProblemsWaitForTheThresholdAndAGpuGoneDoesNot() throws Exception {
        String[] answer = {""};
        HttpServer agent = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 4);
        agent.createContext("/health", exchange -> {
            byte[] body = answer[0].getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(503, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        agent.start();
        try {
            Map<String, String> env = Map.of("GPU_AGENT_URL", "http://127.0.0.1:" + agent.getAddress().getPort());
            answer[0] = """
                    {"healthy":false,"status":"unhealthy","reason":"journal events: No space left on device (msg: \\"component\\":\\"gpus\\" \\"state\\":\\"LOST\\")",
                     "problems":[{"component":"journal events","message":"No space left on device"}],
                     "gpus":[{"index":0,"uuid":"GPU-0","state":"HEALTHY","reasons":[]}]}""";
            SlurmScripts.Run run = slurm.run("gpu-agent-healthcheck", env);
            assertEquals(1, run.exit(), run.err());
            assertTrue(run.err().contains("journal events: No space left on device") && run.err().contains("failure 1 of 3"), run.err());
            assertEquals(List.of(), slurm.takeCalls(), "a full disk once drains nothing");

            answer[0] = """
                    {"healthy":false,"status":"unhealthy","reason":"gpus: the driver reports 7 GPUs, 8 before",
                     "problems":[{"component":"gpus","message":"the driver reports 7 GPUs, 8 before"}],"gpus":[]}""";
            run = slurm.run("gpu-agent-healthcheck", env);
            assertEquals(1, run.exit(), run.err());
            List<List<String>> calls = slurm.takeCalls();
            assertEquals(2, calls.size(), "a GPU gone drains at once: " + calls);
            assertEquals("Reason=gpu-agent: gpus: the driver reports 7 GPUs, 8 before", calls.get(1).get(3));
        } finally {
            agent.stop(0);
        }
    }

    /** Issue 23: a node check UNHEALTHY (here a driver/kmod mismatch) drains at once, as a GPU fault does. */
    @Test
    void anUnhealthyNodeCheckDrainsAtOnce() throws Exception {
        HttpServer agent = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 4);
        agent.createContext("/health", exchange -> {
            byte[] body = """
                    {"healthy":false,"status":"unhealthy","reason":"node kernel_module UNHEALTHY: the loaded nvidia kernel module is 570.124.06 but NVML is 570.133.20",
                     "problems":[],"gpus":[{"index":0,"uuid":"GPU-0","state":"HEALTHY","reasons":[]}],
                     "node":{"state":"UNHEALTHY","checks":[{"check":"kernel_module","state":"UNHEALTHY"}]}}"""
                    .getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(503, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        agent.start();
        try {
            SlurmScripts.Run run = slurm.run("gpu-agent-healthcheck",
                    Map.of("GPU_AGENT_URL", "http://127.0.0.1:" + agent.getAddress().getPort()));
            assertEquals(1, run.exit(), run.err());
            List<List<String>> calls = slurm.takeCalls();
            assertEquals(2, calls.size(), "a node fault drains at once: " + calls);
            assertTrue(calls.get(1).get(3).startsWith("Reason=gpu-agent: node kernel_module UNHEALTHY: the loaded nvidia"),
                    calls.toString());
        } finally {
            agent.stop(0);
        }
    }

    @Test
    void aSettingsFileOthersMayWriteOrALinkIsRefused() throws Exception {
        Path settings = dir.resolve("loose.env");
        Files.writeString(settings, "GPU_AGENT_RESUME=1\n");
        Files.setPosixFilePermissions(settings, PosixFilePermissions.fromString("rw-rw-r--"));
        SlurmScripts.Run run = slurm.run("gpu-agent-healthcheck", Map.of("GPU_AGENT_SLURM_ENV", settings.toString()));
        assertEquals(2, run.exit(), run.err());
        assertTrue(run.err().contains("refusing the settings file " + settings) && run.err().contains("chmod 0644"), run.err());
        Files.setPosixFilePermissions(settings, PosixFilePermissions.fromString("rw-r--r--"));
        Path link = Files.createSymbolicLink(dir.resolve("link.env"), settings);
        run = slurm.run("gpu-agent-prolog", Map.of("GPU_AGENT_SLURM_ENV", link.toString(), "SLURM_JOB_ID", "1"));
        assertEquals(2, run.exit(), run.err());
        assertTrue(run.err().contains("not a link"), run.err());
        assertEquals(List.of(), slurm.takeCalls());
        assertEquals(0, slurm.run("gpu-agent-healthcheck", Map.of("GPU_AGENT_SLURM_ENV", settings.toString())).exit());
    }

    @Test
    void itsTemporaryFilesAreInAPrivateDirectoryRemovedOnExit() throws Exception {
        Path tmp = Files.createDirectories(dir.resolve("tmp"));
        FakeNvml.write(Machines.dgxH100().lost(4));
        FakeNvml.eventually(Duration.ofSeconds(10), () -> given().get("/health").then().statusCode(503));
        assertEquals(1, slurm.run("gpu-agent-healthcheck", Map.of("TMPDIR", tmp.toString())).exit());
        assertEquals(1, slurm.run("gpu-agent-healthcheck", Map.of("TMPDIR", tmp.toString(),
                "GPU_AGENT_URL", "http://127.0.0.1:9")).exit());
        try (var left = Files.list(tmp)) {
            assertEquals(List.of(), left.toList(), "nothing left in TMPDIR");
        }
        Path failures = dir.resolve("state/healthcheck.failures");
        assertEquals("2", Files.readString(failures).strip(), "two unhealthy runs in a row (the lost GPU drained at once)");
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("state"))));
    }

    @Test
    void aDrainSomeoneElseSetIsNotRelabelledAndOursIsUpdatedOnlyWhenTheReasonChanges() {
        FakeNvml.write(Machines.dgxH100().lost(4));
        FakeNvml.eventually(Duration.ofSeconds(10), () -> given().get("/health").then().statusCode(503));
        for (String theirs : List.of("kernel upgrade [admin@2026-11-23T10:00:00]", "Prolog error [root@2026-11-23T10:00:00]")) {
            slurm.nodeShows("NodeName=node7 State=IDLE+DRAIN\n   Reason=" + theirs + "\n");
            SlurmScripts.Run run = slurm.run("gpu-agent-healthcheck", Map.of());
            assertEquals(1, run.exit(), run.err());
            assertEquals(List.of(List.of("show", "node", "node7")), slurm.takeCalls(), "only looked: " + theirs);
            assertTrue(run.err().contains("already has a reason someone else set (IDLE+DRAIN: " + theirs.replaceFirst(" \\[.*", "")),
                    run.err());
        }
        // A node down for another reason (slurmd not responding) is not ours to label either.
        slurm.nodeShows("NodeName=node7 State=DOWN+NOT_RESPONDING\n   Reason=Not responding [slurm@2026-11-23T10:00:00]\n");
        assertEquals(1, slurm.run("gpu-agent-healthcheck", Map.of()).exit());
        assertEquals(List.of(List.of("show", "node", "node7")), slurm.takeCalls());

        // Our own drain, same reason: nothing to do; an older reason of ours: brought up to date.
        String reason = given().get("/health").then().extract().path("reason");
        slurm.nodeShows("NodeName=node7 State=IDLE+DRAIN\n   Reason=gpu-agent: " + reason + " [root@2026-11-23T10:00:00]\n");
        assertEquals(1, slurm.run("gpu-agent-healthcheck", Map.of()).exit());
        assertEquals(List.of(List.of("show", "node", "node7")), slurm.takeCalls());
        slurm.nodeShows("NodeName=node7 State=IDLE\n   Reason=gpu-agent: " + reason + " [root@2026-11-23T10:00:00]\n");
        assertEquals(1, slurm.run("gpu-agent-healthcheck", Map.of()).exit());
        assertEquals(2, slurm.takeCalls().size(), "our reason on a node no longer drained: drained again");
        slurm.nodeShows("NodeName=node7 State=IDLE+DRAIN\n   Reason=gpu-agent: GPU 2 UNHEALTHY [root@2026-11-23T10:00:00]\n");
        assertEquals(1, slurm.run("gpu-agent-healthcheck", Map.of()).exit());
        List<List<String>> calls = slurm.takeCalls();
        assertEquals(2, calls.size(), calls.toString());
        assertEquals("Reason=gpu-agent: " + reason, calls.get(1).get(3));
    }

    @Test
    void withNoEnvironmentButTheNodeNameItReadsTheSettingsFile() {
        FakeNvml.write(Machines.dgxH100().lost(4));
        FakeNvml.eventually(Duration.ofSeconds(10), () -> given().get("/health").then().statusCode(503));
        // What slurmd passes (SLURMD_NODENAME, no PATH); curl, scontrol and the agent's URL come from the file.
        SlurmScripts.Run run = slurm.runBare("gpu-agent-healthcheck", "GPU_AGENT_TIMEOUT=3\nGPU_AGENT_COLOUR=blue\n",
                Map.of("SLURMD_NODENAME", "gpu-node-17"));
        assertEquals(1, run.exit(), run.err());
        List<List<String>> calls = slurm.takeCalls();
        assertEquals(List.of("show", "node", "gpu-node-17"), calls.getFirst());
        assertEquals(List.of("update", "NodeName=gpu-node-17", "State=DRAIN"), calls.get(1).subList(0, 3));
        assertTrue(run.err().contains("ignoring unknown setting GPU_AGENT_COLOUR"), run.err());
    }

    @Test
    void everySettingTheShippedExampleNamesIsKnown() throws Exception {
        String example = Files.readString(SlurmScripts.SCRIPTS.resolve("slurm.env.example"));
        String uncommented = example.replaceAll("(?m)^#([A-Z_]+=)", "$1");
        assertTrue(uncommented.lines().filter(l -> l.matches("[A-Z_]+=.*")).count() >= 9, uncommented);
        SlurmScripts.Run run = slurm.runBare("gpu-agent-healthcheck", uncommented, Map.of("SLURMD_NODENAME", "node7"));
        assertEquals(0, run.exit(), run.err());
        assertEquals("", run.err(), "no setting ignored");
        assertEquals(List.of(List.of("show", "node", "node7")), slurm.takeCalls());
    }
}
