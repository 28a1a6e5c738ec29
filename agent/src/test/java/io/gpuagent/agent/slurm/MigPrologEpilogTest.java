package io.gpuagent.agent.slurm;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.agent.lease.Cordons;
import io.gpuagent.agent.lease.LeaseTestSupport;
import io.gpuagent.agent.slurm.SlurmMigNode.MigDevice;
import io.gpuagent.nvml.fake.FakeNvml;
import io.gpuagent.nvml.fake.Machines;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The prolog, epilog and task prolog on a node whose GPUs are in MIG mode (the fake's {@link Machines#h100Mig}),
 * against the agent's lease API, with Slurm's job environment as slurmd 22.05 builds it for each way of
 * configuring MIG gres (docs/slurm.md, "MIG"): MIG devices named by UUID in CUDA_VISIBLE_DEVICES (NVML autodetect),
 * or by index only (gres.conf written by hand). {@link RealSlurmMigTest} runs the same under a real slurmd.
 */
@QuarkusTest
class MigPrologEpilogTest {

    @Inject
    Cordons cordons;

    @TempDir
    Path dir;
    SlurmScripts slurm;
    SlurmMigNode node;

    @BeforeEach
    void migNode() {
        slurm = new SlurmScripts(dir);
        LeaseTestSupport.freshNode(cordons);
        node = SlurmMigNode.h100Mig();
    }

    @AfterEach
    void wholeGpusAgain() {
        LeaseTestSupport.freshNode(cordons);
    }

    private static Map<String, String> env(String... keysAndValues) {
        Map<String, String> out = new HashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            out.put(keysAndValues[i], keysAndValues[i + 1]);
        }
        return out;
    }

    private static String uuids(MigDevice... devices) {
        return String.join(",", java.util.Arrays.stream(devices).map(MigDevice::uuid).toList());
    }

    @Test
    void migDevicesSlurmNamesByUuidAreLeasedExactlyAndReleased() {
        // Two MIG devices on different GPUs, as Slurm's NVML autodetect hands them over: its own indices in
        // SLURM_JOB_GPUS (positions in its merged device list), the devices' MIG- UUIDs in CUDA_VISIBLE_DEVICES.
        MigDevice a = node.devices.get(1);
        MigDevice b = node.devices.getLast();
        assertTrue(a.gpu() != b.gpu(), a + " / " + b);
        SlurmScripts.Run prolog = slurm.run("gpu-agent-prolog", env("SLURM_JOB_ID", "5100", "SLURM_JOB_GPUS", "3,30",
                "CUDA_VISIBLE_DEVICES", uuids(a, b)));
        assertEquals(0, prolog.exit(), prolog.err());
        List<Map<String, Object>> leases = PrologEpilogTest.leasesOf("slurm-5100");
        assertEquals(1, leases.size(), leases.toString());
        Map<String, Object> lease = leases.getFirst();
        assertEquals(List.of(a.uuid(), b.uuid()), lease.get("gpus"));
        assertEquals(Map.of("CUDA_VISIBLE_DEVICES", uuids(a, b), "NVIDIA_VISIBLE_DEVICES", uuids(a, b)),
                Map.of("CUDA_VISIBLE_DEVICES", ((Map<?, ?>) lease.get("env")).get("CUDA_VISIBLE_DEVICES"),
                        "NVIDIA_VISIBLE_DEVICES", ((Map<?, ?>) lease.get("env")).get("NVIDIA_VISIBLE_DEVICES")));
        assertTrue(prolog.out().contains("job 5100 holds lease " + lease.get("leaseId") + " on GPUs 3,30 (MIG devices "
                + uuids(a, b) + ")"), prolog.out());
        assertFalse(Files.exists(slurm.jobEnv.resolve("slurm-5100.mig")), "Slurm named the devices: no note for the task prolog");
        // Slurm set the UUIDs for the tasks itself: the task prolog leaves them.
        SlurmScripts.Run task = slurm.run("gpu-agent-taskprolog", env("SLURM_JOB_ID", "5100", "SLURM_JOB_GPUS", "3,30",
                "CUDA_VISIBLE_DEVICES", uuids(a, b)));
        assertEquals(0, task.exit(), task.err());
        assertEquals("", task.out());

        // Another job given one of them (Slurm and the agent disagree): refused, saying which device and why.
        SlurmScripts.Run refused = slurm.run("gpu-agent-prolog", env("SLURM_JOB_ID", "5101", "SLURM_JOB_GPUS", "7",
                "CUDA_VISIBLE_DEVICES", b.uuid()));
        assertEquals(1, refused.exit(), refused.out());
        assertTrue(refused.err().contains("lease for job 5101 on GPUs 7 (MIG devices " + b.uuid() + ") refused (HTTP 409): ")
                && refused.err().contains("leased to job slurm-5100"), refused.err());
        assertEquals(List.of(), PrologEpilogTest.leasesOf("slurm-5101"));

        SlurmScripts.Run epilog = slurm.run("gpu-agent-epilog", env("SLURM_JOB_ID", "5100"));
        assertEquals(0, epilog.exit(), epilog.err());
        assertEquals(List.of(), PrologEpilogTest.leasesOf("slurm-5100"));
    }

    @Test
    void whatSlurmNamesMustBeMigDevicesOneForEachOfItsGpus() {
        MigDevice a = node.devices.getFirst();
        SlurmScripts.Run fewer = slurm.run("gpu-agent-prolog", env("SLURM_JOB_ID", "5110", "SLURM_JOB_GPUS", "0,1",
                "CUDA_VISIBLE_DEVICES", a.uuid()));
        assertEquals(1, fewer.exit());
        assertTrue(fewer.err().contains("Slurm gave job 5110 2 GPU(s) (SLURM_JOB_GPUS=0,1) but names 1 MIG device(s) "
                + "(CUDA_VISIBLE_DEVICES=" + a.uuid() + ")"), fewer.err());
        SlurmScripts.Run mixed = slurm.run("gpu-agent-prolog", env("SLURM_JOB_ID", "5111", "SLURM_JOB_GPUS", "0,1",
                "CUDA_VISIBLE_DEVICES", a.uuid() + ",1"));
        assertEquals(1, mixed.exit());
        assertTrue(mixed.err().contains("'1' is not a MIG device, but others are"), mixed.err());
        SlurmScripts.Run odd = slurm.run("gpu-agent-prolog", env("SLURM_JOB_ID", "5112", "SLURM_JOB_GPUS", "0",
                "CUDA_VISIBLE_DEVICES", "MIG-\"x"));
        assertEquals(1, odd.exit());
        assertTrue(odd.err().contains("is not a MIG device UUID"), odd.err());
        assertEquals(List.of(), given().get("/v1/leases").then().statusCode(200).extract().jsonPath().getList("$"));
    }

    @Test
    void migDevicesSlurmKnowsByIndexAreTakenInSlurmsOrderAndTheTaskPrologNamesThem() throws IOException {
        // With gres.conf written as gpu-agent-gres-conf prints it, Slurm's index i is the i-th device in slurmd's
        // order (types sorted, then the agent's order): the second one and the last one.
        int first = 1;
        int last = node.slurmOrder.size() - 1;
        MigDevice a = node.atIndex(first);
        MigDevice b = node.atIndex(last);
        assertTrue(!a.type().equals(b.type()), a + " / " + b);
        String gpus = first + "," + last;
        // What slurmd sets without a unique id: indices in CUDA_VISIBLE_DEVICES too.
        SlurmScripts.Run prolog = slurm.run("gpu-agent-prolog", env("SLURM_JOB_ID", "5200", "SLURM_JOB_GPUS", gpus,
                "CUDA_VISIBLE_DEVICES", gpus));
        assertEquals(0, prolog.exit(), prolog.err());
        Map<String, Object> lease = PrologEpilogTest.leasesOf("slurm-5200").getFirst();
        assertEquals(java.util.stream.Stream.of(a, b).sorted(java.util.Comparator.comparingInt(MigDevice::gpu)
                .thenComparingInt(MigDevice::gpuInstanceId).thenComparingInt(MigDevice::computeInstanceId))
                .map(MigDevice::uuid).toList(), lease.get("gpus"), "in the agent's order");
        assertTrue(prolog.out().contains("job 5200 holds lease " + lease.get("leaseId") + " on GPUs " + gpus + " (MIG devices "
                + uuids(a, b) + ")"), prolog.out());

        // The note for the task prolog: Slurm's index and the device, readable by the job's user, root's to write.
        Path note = slurm.jobEnv.resolve("slurm-5200.mig");
        assertEquals(first + " " + a.uuid() + "\n" + last + " " + b.uuid() + "\n", Files.readString(note));
        assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(note)));
        assertEquals("rwxr-xr-x", PosixFilePermissions.toString(Files.getPosixFilePermissions(slurm.jobEnv)));

        // The batch script (the job's GPUs), a step of one of them, a task without GPUs, a step that is not the job's.
        SlurmScripts.Run batch = slurm.run("gpu-agent-taskprolog", env("SLURM_JOB_ID", "5200", "SLURM_JOB_GPUS", gpus,
                "CUDA_VISIBLE_DEVICES", "0,1"));
        assertEquals(0, batch.exit(), batch.err());
        assertEquals("export CUDA_VISIBLE_DEVICES=" + uuids(a, b) + "\n", batch.out());
        SlurmScripts.Run step = slurm.run("gpu-agent-taskprolog", env("SLURM_JOB_ID", "5200", "SLURM_JOB_GPUS", gpus,
                "SLURM_STEP_GPUS", String.valueOf(last), "CUDA_VISIBLE_DEVICES", "0"));
        assertEquals("export CUDA_VISIBLE_DEVICES=" + b.uuid() + "\n", step.out(), step.err());
        SlurmScripts.Run none = slurm.run("gpu-agent-taskprolog", env("SLURM_JOB_ID", "5200", "SLURM_JOB_GPUS", gpus));
        assertEquals(0, none.exit(), none.err());
        assertEquals("", none.out(), "Slurm gave this task no GPU: nothing to name");
        SlurmScripts.Run stranger = slurm.run("gpu-agent-taskprolog", env("SLURM_JOB_ID", "5200", "SLURM_JOB_GPUS", gpus,
                "SLURM_STEP_GPUS", "0", "CUDA_VISIBLE_DEVICES", "0"));
        assertEquals(1, stranger.exit());
        assertTrue(stranger.err().contains("GPU index 0 of job 5200 (from 0) is not among the MIG devices the prolog leased"),
                stranger.err());
        SlurmScripts.Run otherJob = slurm.run("gpu-agent-taskprolog", env("SLURM_JOB_ID", "5201", "SLURM_JOB_GPUS", "0",
                "CUDA_VISIBLE_DEVICES", "0"));
        assertEquals(0, otherJob.exit(), otherJob.err());
        assertEquals("", otherJob.out(), "a job without a note (whole GPUs, or no lease) is left as Slurm set it");

        SlurmScripts.Run epilog = slurm.run("gpu-agent-epilog", env("SLURM_JOB_ID", "5200"));
        assertEquals(0, epilog.exit(), epilog.err());
        assertEquals(List.of(), PrologEpilogTest.leasesOf("slurm-5200"));
        assertFalse(Files.exists(note), "the note goes with the lease");
    }

    @Test
    void gresConfForTheNodeIsPrintedInSlurmsOrderWithTheCapabilityDevices() throws IOException {
        Path minors = dir.resolve("mig-minors");
        Files.writeString(minors, node.migMinors());
        SlurmScripts.Run conf = slurm.run("gpu-agent-gres-conf", env("GPU_AGENT_NODE", "mig007"), minors.toString());
        assertEquals(0, conf.exit(), conf.err());
        List<String> lines = conf.out().lines().toList();
        assertEquals(node.gresConfLines("mig007", Path.of("/dev")),
                lines.stream().filter(l -> !l.startsWith("#")).map(l -> l + "\n").reduce("", String::concat));
        assertEquals("# slurm.conf, on the NodeName line of mig007: Gres=" + node.gres(), lines.getLast());
        assertTrue(lines.getFirst().startsWith("# gres.conf for mig007, from gpu-agent at http://127.0.0.1:"), lines.getFirst());

        // A minors file that is not the driver's: no line with a made-up minor.
        Files.writeString(minors, "config 1\nmonitor 2\n");
        SlurmScripts.Run none = slurm.run("gpu-agent-gres-conf", env("GPU_AGENT_NODE", "mig007"), minors.toString());
        assertEquals(1, none.exit(), none.out());
        assertTrue(none.err().contains("no minor for gpu0/gi"), none.err());
        assertFalse(none.out().contains("nvidia-cap"), none.out());
    }

    @Test
    void anIndexBeyondTheAgentsDevicesOrALostGpuLeasesNothing() {
        int count = node.devices.size();
        SlurmScripts.Run beyond = slurm.run("gpu-agent-prolog", env("SLURM_JOB_ID", "5300", "SLURM_JOB_GPUS", "0," + count));
        assertEquals(1, beyond.exit());
        assertTrue(beyond.err().contains("SLURM_JOB_GPUS=0," + count + ": GPU index " + count + ", but the agent at http://127.0.0.1:"
                + io.restassured.RestAssured.port + " has " + count + " device(s) for Slurm"), beyond.err());

        // A lost GPU's MIG devices are not read: the devices after it would move up, so the prolog maps nothing.
        FakeNvml.write(Machines.h100Mig().lost(3));
        FakeNvml.eventually(Duration.ofSeconds(20), () -> assertEquals("LOST",
                given().get("/v1/gpus/3").then().statusCode(200).extract().path("status")));
        SlurmScripts.Run lost = slurm.run("gpu-agent-prolog", env("SLURM_JOB_ID", "5301", "SLURM_JOB_GPUS", "0"));
        assertEquals(1, lost.exit());
        assertTrue(lost.err().contains("a GPU is LOST, so Slurm's GPU indices (0) cannot be matched to MIG devices"), lost.err());
        assertEquals(List.of(), given().get("/v1/leases").then().statusCode(200).extract().jsonPath().getList("$"));
    }

    @Test
    void aTaskPrologReadsNoNoteOthersCouldHaveWritten() throws IOException {
        Files.createDirectories(slurm.jobEnv);
        Path note = slurm.jobEnv.resolve("slurm-5400.mig");
        Files.writeString(note, "0 " + node.devices.getFirst().uuid() + "\n");
        Files.setPosixFilePermissions(note, PosixFilePermissions.fromString("rw-rw-rw-"));
        SlurmScripts.Run task = slurm.run("gpu-agent-taskprolog", env("SLURM_JOB_ID", "5400", "SLURM_JOB_GPUS", "0",
                "CUDA_VISIBLE_DEVICES", "0"));
        assertEquals(1, task.exit(), task.out());
        assertTrue(task.err().contains(note + ": not a file (not a link) owned by root and writable by root only"), task.err());
        assertEquals("", task.out());
    }
}
