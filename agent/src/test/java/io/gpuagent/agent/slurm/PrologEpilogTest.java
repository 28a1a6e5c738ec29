package io.gpuagent.agent.slurm;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.agent.lease.LeaseTestSupport;
import io.gpuagent.agent.recovery.Cordons;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
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
        assertTrue(refused.err().contains("lease for job 4243 on GPUs 5 refused (HTTP 409)"), refused.err());
        assertEquals(List.of(), leasesOf("slurm-4243"));

        SlurmScripts.Run epilog = slurm.run("gpu-agent-epilog", job("4242", "2,5"));
        assertEquals(0, epilog.exit(), epilog.err());
        assertEquals(List.of(), leasesOf("slurm-4242"));
        assertFalse(Files.exists(note), "the note goes with the lease");
        assertEquals(0, slurm.run("gpu-agent-epilog", job("4242", "2,5")).exit(), "a second epilog is harmless");
        assertEquals(List.of(), slurm.takeCalls(), "prolog and epilog never call scontrol themselves");
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
        assertTrue(noToken.err().contains("cannot read the agent's token file"), noToken.err());
        assertEquals(List.of(), leasesOf("slurm-10"));
        assertEquals(List.of(), leasesOf("slurm-11"));
    }

    private static String readNote(Path note) {
        try {
            return Files.readString(note).strip();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
