package io.gpuagent.agent.slurm;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.agent.TestToken;
import io.gpuagent.agent.lease.Cordons;
import io.gpuagent.agent.lease.LeaseTestSupport;
import io.gpuagent.agent.slurm.SlurmMigNode.MigDevice;
import io.gpuagent.nvml.fake.FakeNvml;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * MIG gres under a real slurmd (Debian's slurm-wlm 22.05, {@link RealSlurm}) on a node whose fake GPUs are in MIG
 * mode ({@link SlurmMigNode#h100Mig}): typed gres, one per MIG device, with the device files Slurm documents for
 * MIG ({@code MultipleFiles}: the GPU and its GPU and compute instance's capability devices), configured both
 * ways slurmd 22.05 knows (docs/slurm.md, "MIG"): by hand, as Debian's slurmd without NVML needs, and as NVML
 * autodetect reports them (through fake_gpus.conf, see {@link SlurmMigNode}). Jobs ask {@code --gres=gpu:<type>:N};
 * their prolog leases exactly the MIG devices Slurm gave them, their tasks get those devices' MIG- UUIDs in
 * CUDA_VISIBLE_DEVICES, and the epilog releases them. Each test starts its own cluster (slurmd reads gres.conf at
 * start).
 */
@QuarkusTest
class RealSlurmMigTest {

    @Inject
    Cordons cordons;

    SlurmMigNode node;

    @BeforeEach
    void migNode() {
        RealSlurm.require();
        TestToken.get();
        LeaseTestSupport.freshNode(cordons);
        node = SlurmMigNode.h100Mig();
    }

    @AfterEach
    void wholeGpusAgain() {
        LeaseTestSupport.freshNode(cordons);
    }

    /**
     * The node configured by hand: gres.conf and slurm.conf's Gres= as agent/slurm/gpu-agent-gres-conf prints them
     * (with the driver's mig-minors for the fake's GPUs), which must be what {@link SlurmMigNode} expects.
     */
    private RealSlurm.NodeGres byHand(Path dev) {
        try {
            Path work = Files.createTempDirectory(Path.of("target"), "gres-conf").toAbsolutePath();
            Files.writeString(work.resolve("mig-minors"), node.migMinors());
            SlurmScripts.Run run = new SlurmScripts(work).run("gpu-agent-gres-conf", Map.of("GPU_AGENT_NODE", RealSlurm.NODE),
                    work.resolve("mig-minors").toString());
            assertEquals(0, run.exit(), run.err());
            assertEquals(node.gresConfLines(RealSlurm.NODE, Path.of("/dev")), run.out().lines().filter(l -> !l.startsWith("#"))
                    .map(l -> l + "\n").reduce("", String::concat));
            assertTrue(run.out().contains("Gres=" + node.gres() + "\n"), run.out());
            return node.handWritten(run.out().replace("/dev/", dev + "/"));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static RealSlurm up(RealSlurm slurm) throws Exception {
        slurm.settings(RestAssured.port, TestToken.FILE);
        // The health checks before the settings existed found no agent: whatever they did, start from a clean node.
        slurm.resume();
        slurm.waitFor(Duration.ofSeconds(30), () -> slurm.nodeState().equals("IDLE"), "node IDLE");
        return slurm;
    }

    /** A batch job asking for {@code gres} that writes the CUDA_VISIBLE_DEVICES its task got to a file, then waits. */
    private static String submit(RealSlurm slurm, String gres) {
        return slurm.client("/usr/bin/sbatch", "--parsable", "--gres=" + gres, "-o", "/dev/null", "--wrap",
                "printenv CUDA_VISIBLE_DEVICES > " + slurm.dir + "/cuda-$SLURM_JOB_ID; sleep 300").strip();
    }

    private static String jobsDevices(RealSlurm slurm, String job) throws Exception {
        Path file = slurm.dir.resolve("cuda-" + job);
        slurm.waitFor(Duration.ofSeconds(30), () -> Files.exists(file) && !Files.readString(file).isBlank(),
                "job " + job + " writing its CUDA_VISIBLE_DEVICES; slurmd log:\n" + slurm.slurmdLog());
        return Files.readString(file).strip();
    }

    private static Map<String, Object> leaseOf(RealSlurm slurm, String job) {
        FakeNvml.eventually(Duration.ofSeconds(30), () -> assertEquals(1, PrologEpilogTest.leasesOf("slurm-" + job).size(),
                "job " + job + " holds one lease; slurmd log:\n" + slurm.slurmdLog()));
        return PrologEpilogTest.leasesOf("slurm-" + job).getFirst();
    }

    /** The type the node has most of (asked two at a time) and the one it has fewest of (asked all at once). */
    private List<Map.Entry<String, Long>> mostAndFewest() {
        List<Map.Entry<String, Long>> byCount = node.countsByType().entrySet().stream()
                .sorted(Map.Entry.<String, Long>comparingByValue().thenComparing(Map.Entry.comparingByKey())).toList();
        assertTrue(byCount.size() >= 2 && byCount.getLast().getValue() >= 2, "the node's MIG types: " + byCount);
        return List.of(byCount.getLast(), byCount.getFirst());
    }

    @Test
    @SuppressWarnings("unchecked")
    void byHandJobsLeaseTheMigDevicesAtSlurmsIndicesAndTheirTasksGetTheirUuids() throws Exception {
        try (RealSlurm slurm = up(RealSlurm.start(SlurmScripts.SCRIPTS, this::byHand))) {
            List<Map.Entry<String, Long>> types = mostAndFewest();
            String many = types.get(0).getKey();
            String few = types.get(1).getKey();
            long fewCount = types.get(1).getValue();
            String two = submit(slurm, "gpu:" + many + ":2");
            String all = submit(slurm, "gpu:" + few + ":" + fewCount);
            Set<String> leased = new HashSet<>();
            for (String job : List.of(two, all)) {
                String type = job.equals(two) ? many : few;
                Map<String, Object> lease = leaseOf(slurm, job);
                // Slurm's indices are positions in slurmd's order (types sorted, then the agent's order).
                List<MigDevice> gave = slurm.jobGpus(job).stream().map(node::atIndex).toList();
                assertEquals(gave.stream().map(MigDevice::uuid).sorted().toList(),
                        ((List<String>) lease.get("gpus")).stream().sorted().toList(), "job " + job + ": the MIG devices Slurm gave it");
                assertEquals(List.of(type), gave.stream().map(MigDevice::type).distinct().toList(), "job " + job + " asked " + type);
                // What the batch script got: Slurm's indices, replaced by the task prolog with the devices' UUIDs.
                assertEquals(String.join(",", gave.stream().map(MigDevice::uuid).toList()), jobsDevices(slurm, job));
                assertTrue(Files.exists(slurm.jobEnv.resolve("slurm-" + job + ".mig")));
                leased.addAll((List<String>) lease.get("gpus"));
            }
            assertEquals(2 + fewCount, leased.size(), "two jobs, different MIG devices: " + leased);

            slurm.client("/usr/bin/scancel", two, all);
            for (String job : List.of(two, all)) {
                FakeNvml.eventually(Duration.ofSeconds(30), () -> assertEquals(List.of(), PrologEpilogTest.leasesOf("slurm-" + job)));
                assertFalse(Files.exists(slurm.jobEnv.resolve("slurm-" + job + ".mig")), "the epilog removes the note");
            }
            slurm.waitFor(Duration.ofSeconds(20), () -> slurm.nodeState().equals("IDLE"), "node IDLE (is " + slurm.nodeState() + ")");
            assertEquals("", slurm.nodeReason());
        }
    }

    @Test
    void byHandAPrologRefusedForAMigDeviceOnACordonedGpuNamesItAndSlurmDrains() throws Exception {
        try (RealSlurm slurm = up(RealSlurm.start(SlurmScripts.SCRIPTS, this::byHand))) {
            // Every device of the rarest type, so Slurm must give the job the one on the cordoned GPU.
            Map.Entry<String, Long> few = mostAndFewest().get(1);
            MigDevice victim = node.devices.stream().filter(d -> d.type().equals(few.getKey()))
                    .min(Comparator.comparingInt(MigDevice::gpu)).orElseThrow();
            LeaseTestSupport.authed().body("{\"reason\":\"fan noise, ticket 99\"}").post("/v1/gpus/" + victim.gpu() + "/cordon")
                    .then().statusCode(200);

            RealSlurm.Result job = slurm.run(Duration.ofSeconds(60), "/usr/bin/srun", "--gres=gpu:" + few.getKey() + ":"
                    + few.getValue(), "-t", "1", "true");
            assertNotEquals(0, job.exit(), "the job must not run: " + job.out());
            slurm.waitFor(Duration.ofSeconds(20), () -> slurm.nodeState().contains("DRAIN"), "Slurm draining the node");
            assertEquals("Prolog error", slurm.nodeReason());
            String log = slurm.slurmdLog();
            assertTrue(log.contains("gpu-agent-prolog: lease for job ") && log.contains(victim.uuid())
                    && log.contains("refused (HTTP 409): ") && log.contains("cordoned (fan noise, ticket 99"), log);
            assertEquals(List.of(), given().get("/v1/leases").then().statusCode(200).extract().jsonPath().getList("$"));
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void autodetectedSlurmNamesTheMigDevicesItGaveAndThePrologLeasesThose() throws Exception {
        try (RealSlurm slurm = up(RealSlurm.start(SlurmScripts.SCRIPTS, dev -> node.autodetected(dev, RealSlurm.CPUS)))) {
            String many = mostAndFewest().get(0).getKey();
            String a = submit(slurm, "gpu:" + many + ":2");
            String b = submit(slurm, "gpu:" + many + ":1");
            Set<String> leased = new HashSet<>();
            for (String job : List.of(a, b)) {
                Map<String, Object> lease = leaseOf(slurm, job);
                // Slurm set the job's CUDA_VISIBLE_DEVICES from the devices' unique ids: the MIG- UUIDs it gave.
                List<String> named = List.of(jobsDevices(slurm, job).split(","));
                assertTrue(named.stream().allMatch(u -> u.startsWith("MIG-")), "job " + job + ": " + named);
                assertEquals(named.stream().sorted().toList(), ((List<String>) lease.get("gpus")).stream().sorted().toList(),
                        "job " + job + ": the lease holds the MIG devices Slurm named");
                assertEquals(List.of(many), named.stream().map(u -> node.byUuid(u).type()).distinct().toList());
                assertFalse(Files.exists(slurm.jobEnv.resolve("slurm-" + job + ".mig")), "Slurm named them: no note");
                leased.addAll(named);
            }
            assertEquals(3, leased.size(), leased.toString());
            slurm.client("/usr/bin/scancel", a, b);
            for (String job : List.of(a, b)) {
                FakeNvml.eventually(Duration.ofSeconds(30), () -> assertEquals(List.of(), PrologEpilogTest.leasesOf("slurm-" + job)));
            }
            slurm.waitFor(Duration.ofSeconds(20), () -> slurm.nodeState().equals("IDLE"), "node IDLE (is " + slurm.nodeState() + ")");
        }
    }
}
