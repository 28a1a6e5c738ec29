package io.gpuagent.agent.slurm;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.agent.TestToken;
import io.gpuagent.agent.lease.Cordons;
import io.gpuagent.agent.lease.LeaseTestSupport;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** agent/slurm/gpu-agent-prolog and gpu-agent-epilog against the running agent's lease API. */
@QuarkusTest
class PrologEpilogTest {

    @Inject
    Cordons cordons;

    @TempDir
    Path dir;
    SlurmScripts slurm;

    @BeforeEach
    void freshNode() {
        slurm = new SlurmScripts(dir);
        LeaseTestSupport.freshNode(cordons);
    }

    @AfterEach
    void releaseAll() {
        LeaseTestSupport.releaseAll();
    }

    static String uuid(int index) {
        return given().get("/v1/gpus/" + index).then().statusCode(200).extract().path("uuid");
    }

    /** The live leases of {@code jobId}. */
    static List<Map<String, Object>> leasesOf(String jobId) {
        List<Map<String, Object>> all = given().get("/v1/leases").then().statusCode(200).extract().jsonPath().getList("$");
        return all.stream().filter(l -> jobId.equals(l.get("jobId"))).toList();
    }

    static Map<String, String> job(String id, String gpus) {
        return Map.of("SLURM_JOB_ID", id, "SLURM_JOB_GPUS", gpus);
    }

    @Test
    void prologLeasesTheJobsGpusAndEpilogReleasesThem() {
        SlurmScripts.Run prolog = slurm.run("gpu-agent-prolog", job("4242", "2,5"));
        assertEquals(0, prolog.exit(), prolog.err());
        List<Map<String, Object>> leases = leasesOf("slurm-4242");
        assertEquals(1, leases.size(), leases.toString());
        assertEquals(List.of(uuid(2), uuid(5)), leases.getFirst().get("gpus"));
        Path note = dir.resolve("state/slurm-4242.lease");
        assertEquals(leases.getFirst().get("leaseId"), readNote(note));
        assertTrue(prolog.out().contains("job 4242 holds lease " + leases.getFirst().get("leaseId")), prolog.out());

        // Another job cannot get GPU 5 while 4242 holds it: the prolog fails (Slurm drains and requeues).
        SlurmScripts.Run refused = slurm.run("gpu-agent-prolog", job("4243", "5"));
        assertEquals(1, refused.exit(), refused.out());
        // The whole answer, down to which GPU stands in the way and why (not only its first clause).
        assertTrue(refused.err().contains("lease for job 4243 on GPUs 5 refused (HTTP 409): 1 GPU(s) asked by UUID, "
                + "not all can be leased: GPU 5 is leased to job slurm-4242 (lease " + leases.getFirst().get("leaseId") + ")"),
                refused.err());
        assertEquals(List.of(), leasesOf("slurm-4243"));

        SlurmScripts.Run epilog = slurm.run("gpu-agent-epilog", job("4242", "2,5"));
        assertEquals(0, epilog.exit(), epilog.err());
        assertEquals(List.of(), leasesOf("slurm-4242"));
        assertFalse(Files.exists(note), "the note goes with the lease");
        assertEquals(0, slurm.run("gpu-agent-epilog", job("4242", "2,5")).exit(), "a second epilog is harmless");
        assertEquals(List.of(), slurm.takeCalls(), "prolog and epilog never call scontrol themselves");
    }

    @Test
    void gresConfForANodeWithoutMigIsTheExamplesUntypedGpusInNvmlOrder() {
        List<Map<String, Object>> gpus = given().get("/v1/gpus").then().statusCode(200).extract().jsonPath().getList("gpus");
        SlurmScripts.Run conf = slurm.run("gpu-agent-gres-conf", Map.of("GPU_AGENT_NODE", "gpu007"));
        assertEquals(0, conf.exit(), conf.err());
        List<String> expected = new ArrayList<>();
        for (Map<String, Object> g : gpus) {
            expected.add("NodeName=gpu007 Name=gpu File=/dev/" + g.get("device"));
        }
        assertEquals(expected, conf.out().lines().filter(l -> !l.startsWith("#")).toList());
        assertTrue(conf.out().endsWith("# slurm.conf, on the NodeName line of gpu007: Gres=gpu:" + gpus.size() + "\n"), conf.out());
        assertEquals(List.of(), slurm.takeCalls(), "it asks the agent only");
    }

    @Test
    void epilogFindsTheLeaseByJobWhenTheNoteIsGone() throws Exception {
        assertEquals(0, slurm.run("gpu-agent-prolog", job("77", "0")).exit());
        Files.delete(dir.resolve("state/slurm-77.lease"));
        SlurmScripts.Run epilog = slurm.run("gpu-agent-epilog", job("77", "0"));
        assertEquals(0, epilog.exit(), epilog.err());
        assertEquals(List.of(), leasesOf("slurm-77"));
    }

    @Test
    void aJobWithoutGpusNeedsNoLeaseAndBadInputFails() {
        assertEquals(0, slurm.run("gpu-agent-prolog", Map.of("SLURM_JOB_ID", "9")).exit());
        assertEquals(List.of(), leasesOf("slurm-9"));
        SlurmScripts.Run bad = slurm.run("gpu-agent-prolog", job("10", "1,x"));
        assertEquals(1, bad.exit());
        assertTrue(bad.err().contains("'x' is not a GPU index"), bad.err());
        SlurmScripts.Run noToken = slurm.run("gpu-agent-prolog", Map.of("SLURM_JOB_ID", "11", "SLURM_JOB_GPUS", "1",
                "GPU_AGENT_TOKEN_FILE", dir.resolve("missing").toString()));
        assertEquals(1, noToken.exit());
        assertTrue(noToken.err().contains("cannot read the scheduler credential"), noToken.err());
        assertEquals(List.of(), leasesOf("slurm-10"));
        assertEquals(List.of(), leasesOf("slurm-11"));
    }

    @Test
    void withSlurmsJobEnvironmentOnlyItReadsTheSettingsFile() {
        // What slurmd passes to a prolog: the job's variables, no PATH, nothing of ours.
        Map<String, String> env = Map.of("SLURM_JOB_ID", "31", "SLURM_JOB_GPUS", "6", "SLURMD_NODENAME", "node7");
        SlurmScripts.Run prolog = slurm.runBare("gpu-agent-prolog", "", env);
        assertEquals(0, prolog.exit(), prolog.err());
        assertEquals(List.of(uuid(6)), leasesOf("slurm-31").getFirst().get("gpus"));
        SlurmScripts.Run epilog = slurm.runBare("gpu-agent-epilog", "", env);
        assertEquals(0, epilog.exit(), epilog.err());
        assertEquals(List.of(), leasesOf("slurm-31"));
    }

    /**
     * Issue 11, finding 1: every local user can read /proc/PID/cmdline, so the token must not be on curl's. A
     * listener that takes the prolog's requests and holds each one open while we read every process's command
     * line (curl's included: it waits for our answer), then answers as the agent would.
     */
    @Test
    void theTokenIsSentButNeverOnACommandLine() throws Exception {
        String token = TestToken.get();
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int port = listener.getLocalPort();
            CompletableFuture<SlurmScripts.Run> prolog = CompletableFuture.supplyAsync(() -> slurm.run("gpu-agent-prolog",
                    Map.of("SLURM_JOB_ID", "55", "SLURM_JOB_GPUS", "1", "GPU_AGENT_URL", "http://127.0.0.1:" + port)));
            List<String> answers = List.of("{\"gpus\":[{\"index\":0,\"uuid\":\"GPU-held-0\",\"migDevices\":[]},"
                    + "{\"index\":1,\"uuid\":\"GPU-held-1\",\"migDevices\":[]}]}", "{\"leaseId\":\"L-held\",\"jobId\":\"slurm-55\"}");
            List<String> requests = new ArrayList<>();
            for (String answer : answers) {
                try (Socket held = listener.accept()) {
                    held.setSoTimeout(20_000);
                    String head = readHead(held.getInputStream());
                    requests.add(head.lines().findFirst().orElse(""));
                    assertTrue(head.contains("Authorization: Bearer " + token + "\r\n"), "the token did travel: " + head);
                    List<String> commandLines = commandLines();
                    assertTrue(commandLines.stream().anyMatch(c -> c.startsWith("curl ") && c.contains(":" + port + "/")),
                            "curl, waiting for us, is among the processes read: " + commandLines.size());
                    assertEquals(List.of(), commandLines.stream().filter(c -> c.contains(token)).toList());
                    String status = answers.indexOf(answer) == 0 ? "200 OK" : "201 Created";
                    byte[] body = answer.getBytes(StandardCharsets.UTF_8);
                    held.getOutputStream().write(("HTTP/1.1 " + status + "\r\nContent-Type: application/json\r\nContent-Length: "
                            + body.length + "\r\nConnection: close\r\n\r\n" + answer).getBytes(StandardCharsets.UTF_8));
                }
            }
            SlurmScripts.Run run = prolog.get(60, TimeUnit.SECONDS);
            assertEquals(0, run.exit(), run.err());
            assertEquals(List.of("GET /v1/gpus HTTP/1.1", "POST /v1/leases HTTP/1.1"), requests);
            assertTrue(run.out().contains("job 55 holds lease L-held"), run.out());
        }
    }

    private static String readHead(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) {
                break;
            }
            head.append((char) c);
        }
        return head.toString();
    }

    /** Every process's command line, arguments joined by spaces. */
    private static List<String> commandLines() throws IOException {
        List<String> out = new ArrayList<>();
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), p -> p.getFileName().toString().matches("[0-9]+"))) {
            for (Path p : procs) {
                try {
                    out.add(new String(Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.UTF_8).replace('\0', ' ').strip());
                } catch (IOException gone) {
                    // the process ended meanwhile
                }
            }
        }
        return out;
    }

    private static String readNote(Path note) {
        try {
            return Files.readString(note).strip();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
