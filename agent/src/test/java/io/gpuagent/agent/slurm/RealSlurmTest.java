package io.gpuagent.agent.slurm;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.gpuagent.agent.TestToken;
import io.gpuagent.agent.lease.Cordons;
import io.gpuagent.agent.lease.LeaseTestSupport;
import io.gpuagent.nvml.fake.FakeNvml;
import io.gpuagent.nvml.fake.Machines;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The shipped scripts as a real slurmd runs them (Debian's slurm-wlm 22.05, see {@link RealSlurm}), against the
 * test agent on the fake NVML driver: jobs lease exactly the GPUs Slurm gave them, a lost GPU drains the node
 * and its recovery resumes it, a drain set by anyone else stays as it is, and a refused prolog says why.
 */
@QuarkusTest
class RealSlurmTest {

    private static RealSlurm slurm;

    @Inject
    Cordons cordons;

    @BeforeEach
    void cleanNodeAndCluster() throws Exception {
        RealSlurm.require();
        if (slurm == null) {
            long t0 = System.nanoTime();
            slurm = RealSlurm.start(SlurmScripts.SCRIPTS);
            System.out.printf("real Slurm: munged, slurmctld and slurmd up in %d ms (%s)%n", (System.nanoTime() - t0) / 1_000_000, slurm.dir);
        }
        slurm.settings(RestAssured.port, TestToken.FILE);
        TestToken.get();
        LeaseTestSupport.freshNode(cordons);
        FakeNvml.eventually(Duration.ofSeconds(10), () -> given().get("/health").then().statusCode(200));
        slurm.cancelAll();
        slurm.resume();
        slurm.waitFor(Duration.ofSeconds(30), () -> slurm.nodeState().equals("IDLE"), "node IDLE");
    }

    @AfterEach
    void putBack() {
        if (slurm != null) {
            slurm.cancelAll();
        }
        LeaseTestSupport.freshNode(cordons);
    }

    @AfterAll
    static void stopSlurm() throws Exception {
        if (slurm != null) {
            slurm.close();
            slurm = null;
        }
    }

    static List<Map<String, Object>> leasesOf(String jobId) {
        return PrologEpilogTest.leasesOf(jobId);
    }

    @Test
    void jobsLeaseExactlyTheGpusSlurmGaveThemAndReleaseThemWhenTheyEnd() {
        String three = slurm.client("/usr/bin/sbatch", "--parsable", "--gres=gpu:3", "-o", "/dev/null", "--wrap", "sleep 300").strip();
        String two = slurm.client("/usr/bin/sbatch", "--parsable", "--gres=gpu:2", "-o", "/dev/null", "--wrap", "sleep 300").strip();
        Set<Integer> all = new HashSet<>();
        for (String job : List.of(three, two)) {
            FakeNvml.eventually(Duration.ofSeconds(30), () -> assertEquals(1, leasesOf("slurm-" + job).size(),
                    "job " + job + " holds one lease; slurmd log:\n" + slurm.slurmdLog()));
            List<Integer> gave = slurm.jobGpus(job);
            assertEquals(gave, leasesOf("slurm-" + job).getFirst().get("indices"), "job " + job + ": the GPUs Slurm gave it");
            all.addAll(gave);
        }
        assertEquals(5, all.size(), "two jobs, five different GPUs: " + all);

        slurm.client("/usr/bin/scancel", three);
        FakeNvml.eventually(Duration.ofSeconds(30), () -> assertEquals(List.of(), leasesOf("slurm-" + three)));
        assertEquals(1, leasesOf("slurm-" + two).size(), "the other job keeps its lease");
        slurm.client("/usr/bin/scancel", two);
        FakeNvml.eventually(Duration.ofSeconds(30), () -> assertEquals(List.of(), leasesOf("slurm-" + two)));
        // Prolog and epilog succeeded, so Slurm drained nothing: the node goes back to IDLE once the epilogs are done.
        slurm.waitFor(Duration.ofSeconds(20), () -> slurm.nodeState().equals("IDLE"), "node IDLE (is " + slurm.nodeState() + ")");
        assertEquals("", slurm.nodeReason());
    }

    /**
     * docs/usage.md#slurm: after the job ends, {@code sacct -j <id> -o AdminComment} shows its usage, the agent's
     * usage of the job's lease. Needs accounting in slurmdbd ({@link RealSlurm#accounting}).
     */
    @Test
    void afterTheJobEndsSacctShowsItsUsageInAdminComment() {
        String why = "no slurmdbd and mariadb-server: sacct has no database to read (apt-get install slurmdbd "
                + "mariadb-server)";
        if (!slurm.accounting && Boolean.getBoolean("slurm.required")) {
            throw new AssertionError(why + "; -Dslurm.required=true (CI) needs it");   // CI must not skip the check
        }
        assumeTrue(slurm.accounting, why);
        String job = slurm.client("/usr/bin/sbatch", "--parsable", "--gres=gpu:1", "-o", "/dev/null", "--wrap", "sleep 300").strip();
        FakeNvml.eventually(Duration.ofSeconds(30), () -> assertEquals(1, leasesOf("slurm-" + job).size(),
                "job " + job + " holds one lease; slurmd log:\n" + slurm.slurmdLog()));
        String leaseId = (String) leasesOf("slurm-" + job).getFirst().get("leaseId");
        slurm.client("/usr/bin/scancel", job);
        String[] comment = new String[1];
        slurm.waitFor(Duration.ofSeconds(30), () -> {
            comment[0] = slurm.client("/usr/bin/sacct", "-n", "-P", "-X", "-j", job, "-o", "AdminComment").strip();
            return comment[0].startsWith("gpu-agent: energy_j=");
        }, "sacct showing the job's usage in its AdminComment (the epilog's lines are in slurmd.log)");
        assertTrue(comment[0].endsWith("lease=" + leaseId), comment[0]);
        String energy = given().get("/v1/leases/" + leaseId + "/usage").then().statusCode(200).extract().jsonPath()
                .getString("energyJoules");
        String recorded = comment[0].replaceFirst(".*energy_j=([0-9.]+).*", "$1");
        assertEquals(0, new java.math.BigDecimal(energy).compareTo(new java.math.BigDecimal(recorded)), comment[0]);
        assertTrue(comment[0].contains(" cost=") && comment[0].contains("estimated=false"), comment[0]);
    }

    @Test
    void aLostGpuDrainsTheNodeWithinSecondsAndItsRecoveryResumesIt() {
        FakeNvml.write(Machines.dgxH100().lost(4));
        long lost = System.nanoTime();
        slurm.waitFor(Duration.ofSeconds(20), () -> slurm.nodeState().contains("DRAIN"), "the node drained");
        long drainedMs = (System.nanoTime() - lost) / 1_000_000;
        String reason = slurm.nodeReason();
        assertTrue(reason.startsWith("gpu-agent: GPU 4 (GPU-") && reason.contains("LOST"), reason);

        FakeNvml.write(Machines.dgxH100());
        given().header("Authorization", TestToken.header()).post("/v1/gpus/4/health/clear").then().statusCode(200);
        long back = System.nanoTime();
        slurm.waitFor(Duration.ofSeconds(20), () -> !slurm.nodeState().contains("DRAIN"), "the node resumed");
        long resumedMs = (System.nanoTime() - back) / 1_000_000;
        assertEquals("", slurm.nodeReason());
        System.out.printf("real Slurm: GPU 4 lost -> node drained in %d ms; cleared -> resumed in %d ms (HealthCheckInterval=%d)%n",
                drainedMs, resumedMs, RealSlurm.HEALTH_CHECK_SECONDS);
    }

    @Test
    void aDrainSomeoneElseSetIsNeitherRelabelledNorResumed() {
        String operators = "kernel upgrade, ticket 4711";
        slurm.client("/usr/bin/scontrol", "update", "NodeName=" + RealSlurm.NODE, "State=DRAIN", "Reason=" + operators);

        FakeNvml.write(Machines.dgxH100().lost(4));
        FakeNvml.eventually(Duration.ofSeconds(10), () -> given().get("/health").then().statusCode(503));
        slurm.awaitHealthCheck(1, Duration.ofSeconds(20));
        assertEquals(operators, slurm.nodeReason(), "an unhealthy node keeps the operator's reason");
        String log = slurm.slurmdLog();
        assertTrue(log.contains("health_check failed: rc:1 output:gpu-agent-healthcheck: " + RealSlurm.NODE + " is unhealthy "
                + "(gpu-agent: GPU 4 (GPU-") && log.contains("but already has a reason someone else set (IDLE+DRAIN: " + operators
                + "); left as it is"), log);

        FakeNvml.write(Machines.dgxH100());
        given().header("Authorization", TestToken.header()).post("/v1/gpus/4/health/clear").then().statusCode(200);
        FakeNvml.eventually(Duration.ofSeconds(10), () -> given().get("/health").then().statusCode(200));
        slurm.awaitHealthCheck(0, Duration.ofSeconds(20));
        assertTrue(slurm.nodeState().contains("DRAIN"), "healthy again, the operator's drain stays: " + slurm.nodeState());
        assertEquals(operators, slurm.nodeReason());
    }

    @Test
    void aRefusedPrologSaysWhichGpuAndWhyAndSlurmsDrainStays() {
        given().header("Authorization", TestToken.header()).contentType("application/json")
                .body("{\"reason\":\"fan noise, ticket 99\"}").post("/v1/gpus/3/cordon").then().statusCode(200);

        RealSlurm.Result job = slurm.run(Duration.ofSeconds(60), "/usr/bin/srun", "--gres=gpu:8", "-t", "1", "true");
        assertNotEquals(0, job.exit(), "the job must not run: " + job.out());
        slurm.waitFor(Duration.ofSeconds(20), () -> slurm.nodeState().contains("DRAIN"), "Slurm draining the node");
        assertEquals("Prolog error", slurm.nodeReason());
        String log = slurm.slurmdLog();
        assertTrue(log.contains("gpu-agent-prolog: lease for job ") && log.contains(" on GPUs 0,1,2,3,4,5,6,7 refused (HTTP 409): "
                + "8 GPU(s) asked by UUID, not all can be leased: GPU 3 is cordoned (fan noise, ticket 99"), log);
        assertEquals(List.of(), given().get("/v1/leases").then().statusCode(200).extract().jsonPath().getList("$"));

        // The agent is healthy (a cordon is not a fault): the health check runs and leaves Slurm's drain alone.
        slurm.awaitHealthCheck(0, Duration.ofSeconds(20));
        assertEquals("Prolog error", slurm.nodeReason());
    }
}
