package io.gpuagent.agent.health;

import static io.gpuagent.agent.health.Samples.T0;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.agent.health.detect.HealthState;
import io.gpuagent.agent.health.detect.NodeSample;
import io.gpuagent.agent.host.ClockSync;
import io.gpuagent.agent.host.HostReader;
import io.gpuagent.agent.host.HostSample;
import io.gpuagent.exporter.GpuSample;
import io.gpuagent.exporter.Reading;
import io.gpuagent.exporter.Snapshot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node verdict on the fixture trees of src/test/resources/host with the real detectors and config mapping:
 * each node fault of issue 23's acceptance gives its reason with a fix, within one sweep, and clears after the
 * hysteresis window once fixed.
 */
class NodeJudgeTest {

    static final Path HOSTS = Path.of("src/test/resources/host");

    @TempDir
    Path work;

    private final HealthConfig config = Samples.config(Map.of("gpu-agent.health.ib.expected-ports", "8",
            "gpu-agent.health.ib.expected-rate-gbps", "400", "gpu-agent.health.node.holder-limit", "2m"));

    private HostSample read(Path root, Instant at, ClockSync.Status clock) {
        return new HostReader(root, work, () -> new ClockSync(clock, 0, "test")).read(at);
    }

    private static Snapshot gpus(int n, boolean persistence) {
        GpuSample[] g = new GpuSample[n];
        for (int i = 0; i < n; i++) {
            g[i] = Samples.healthy(i).set(Reading.PERSISTENCE_MODE, persistence ? 1 : 0).build();
        }
        return new Snapshot(1, T0, true, null, "570.133.20", n, List.of(g));   // the fake driver's, dgx-h100's module
    }

    private Path copy(String machine) throws IOException {
        Path from = HOSTS.resolve(machine);
        Path to = work.resolve(machine);
        try (Stream<Path> all = Files.walk(from)) {
            for (Path p : all.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isSymbolicLink(p)) {
                    Files.createSymbolicLink(target, Files.readSymbolicLink(p));
                } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target, StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
        return to;
    }

    private NodeJudge judge() {
        return new NodeJudge(NodeJudge.detectors(config), config.hysteresis(), T0);
    }

    @Test
    void aHealthyDgxIsHealthyWithEveryCheckListed() {
        NodeJudge j = judge();
        j.onSample(new NodeSample(read(HOSTS.resolve("dgx-h100"), T0, ClockSync.Status.SYNCHRONISED), gpus(8, true),
                OptionalInt.of(8)), T0);
        NodeHealth n = j.health();
        assertEquals(HealthState.HEALTHY, n.state(), n.toString());
        assertEquals(14, n.checks().size());
        assertTrue(n.checks().stream().allMatch(c -> c.state() == HealthState.HEALTHY));
    }

    @Test
    void threeBadPortsOfEightGiveThreeFindingsAndClearWhenFixed() throws IOException {
        Path root = copy("dgx-h100-faults");
        NodeJudge j = judge();
        Snapshot snap = new Snapshot(1, T0, true, null, "570.124.06", 8, gpus(8, true).gpus());   // no mismatch here
        j.onSample(new NodeSample(read(root, T0, ClockSync.Status.SYNCHRONISED), snap, OptionalInt.of(8)), T0);
        // mlx5_6 goes down three more times within the flap window
        Files.writeString(root.resolve("sys/class/infiniband/mlx5_6/ports/1/counters/link_downed"), "7\n");
        Instant t1 = T0.plusSeconds(30);
        j.onSample(new NodeSample(read(root, t1, ClockSync.Status.SYNCHRONISED), snap, OptionalInt.of(8)), t1);
        List<NodeReason> ib = j.health().reasons().stream().filter(r -> r.check().startsWith("ib_")).toList();
        assertEquals(List.of("ib_port:mlx5_3/1 IB_PORT_DOWN", "ib_port:mlx5_6/1 IB_PORT_FLAPPING",
                        "ib_port:mlx5_5/1 IB_PORT_RATE"),
                ib.stream().map(r -> r.subject() + " " + r.code()).toList());
        assertEquals(HealthState.UNHEALTHY, j.health().state());
        assertEquals(HealthState.DEGRADED, j.health().stateOf("ib_rate"));
        assertTrue(ib.getFirst().action().contains("ibstat mlx5_3 1"), ib.getFirst().action());

        // fixed: the port up, the rate right, no more downs; the reasons go after the hysteresis window
        Path p3 = root.resolve("sys/class/infiniband/mlx5_3/ports/1");
        Files.writeString(p3.resolve("state"), "4: ACTIVE\n");
        Files.writeString(p3.resolve("phys_state"), "5: LinkUp\n");
        Files.writeString(p3.resolve("rate"), "400 Gb/sec (4X NDR)\n");
        Files.writeString(root.resolve("sys/class/infiniband/mlx5_5/ports/1/rate"), "400 Gb/sec (4X NDR)\n");
        Instant later = t1.plusSeconds(30);
        j.onSample(new NodeSample(read(root, later, ClockSync.Status.SYNCHRONISED), snap, OptionalInt.of(8)), later);
        assertEquals(HealthState.UNHEALTHY, j.health().stateOf("ib_ports"), "not before the hysteresis window");
        assertEquals(HealthState.UNHEALTHY, j.health().stateOf("ib_flap"), "the downs are still within the flap window");
        Instant cleared = t1.plus(Duration.ofMinutes(11));   // past the flap window and the hysteresis
        j.onSample(new NodeSample(read(root, cleared, ClockSync.Status.SYNCHRONISED), snap, OptionalInt.of(8)), cleared);
        assertTrue(j.health().reasons().stream().noneMatch(r -> r.check().startsWith("ib_")), j.health().toString());
        for (String check : List.of("ib_ports", "ib_rate", "ib_flap", "ib_errors")) {
            assertEquals(HealthState.HEALTHY, j.health().stateOf(check), check);
        }
    }

    @Test
    void aDriverMismatchAMissingGpuAndAStuckHolderEachShowWithTheirFix() {
        NodeJudge j = judge();
        Path root = HOSTS.resolve("dgx-h100-faults");
        Snapshot seven = gpus(7, true);   // NVML says 570.133.20, the module 570.124.06
        j.onSample(new NodeSample(read(root, T0, ClockSync.Status.UNSYNCHRONISED), seven, OptionalInt.of(8)), T0);
        NodeHealth n = j.health();
        assertEquals(HealthState.UNHEALTHY, n.stateOf("kernel_module"));
        assertEquals(HealthState.UNHEALTHY, n.stateOf("gpu_count"));
        assertEquals(HealthState.DEGRADED, n.stateOf("clock"));
        assertEquals(HealthState.HEALTHY, n.stateOf("device_holders"), "not yet held for the limit");
        NodeReason mismatch = n.reasons().stream().filter(r -> r.code().equals("DRIVER_VERSION_MISMATCH")).findFirst()
                .orElseThrow();
        assertTrue(mismatch.message().contains("570.124.06") && mismatch.message().contains("570.133.20"));
        assertTrue(mismatch.action().contains("reboot"));
        assertTrue(n.reasons().stream().anyMatch(r -> r.code().equals("GPU_MISSING") && r.message().contains("7 of 8")));

        Instant t2 = T0.plus(Duration.ofMinutes(2));
        j.onSample(new NodeSample(read(root, t2, ClockSync.Status.SYNCHRONISED), seven, OptionalInt.of(8)), t2);
        NodeReason stuck = j.health().reasons().stream().filter(r -> r.code().equals("DEVICE_HOLDER_STUCK")).findFirst()
                .orElseThrow();
        assertTrue(stuck.message().contains("3001 (python (rank 3)) on /dev/nvidia3 for 120 s"), stuck.message());

        HealthReport report = HealthReport.of(t2, seven, "lib", List.of(), List.of()).withNode(j.health());
        assertFalse(report.healthy());
        assertTrue(report.reason().startsWith("node "), report.reason());
        assertTrue(report.reason().contains("node gpu_count UNHEALTHY: the driver sees 7 of 8"), report.reason());
    }

    @Test
    void aGpuWithFewerNvLinkLinksThanExpectedIsANodeFaultOnThatGpu() {
        NodeJudge j = judge();
        Snapshot s = new Snapshot(1, T0, true, null, "570.133.20", 2, List.of(
                Samples.healthy(0).set(Reading.PERSISTENCE_MODE, 1).build(),
                Samples.healthy(1).set(Reading.PERSISTENCE_MODE, 1).set(Reading.NVLINK_LINKS, 3).build()));
        j.onSample(new NodeSample(read(HOSTS.resolve("dgx-h100"), T0, ClockSync.Status.SYNCHRONISED), s,
                OptionalInt.of(2), OptionalInt.of(4)), T0);
        NodeReason r = j.health().reasons().getFirst();
        assertEquals("nvlink_links gpu:" + Samples.uuid(1) + " NVLINK_LINKS_MISSING", r.check() + " " + r.subject() + " "
                + r.code());
        assertTrue(r.message().contains("3 of 4 expected NVLink links"), r.message());
        assertEquals(HealthState.UNHEALTHY, j.health().state());
    }

    @Test
    void eachFabricStateGivesItsReasonOnItsGpu() {
        NodeJudge j = judge();
        Snapshot s = new Snapshot(1, T0, true, null, "570.133.20", 5, List.of(
                Samples.healthy(0).set(Reading.PERSISTENCE_MODE, 1).set(Reading.FABRIC_STATE, 1).build(),
                Samples.healthy(1).set(Reading.PERSISTENCE_MODE, 1).set(Reading.FABRIC_STATE, 2).build(),
                Samples.healthy(2).set(Reading.PERSISTENCE_MODE, 1).set(Reading.FABRIC_STATE, 3)
                        .set(Reading.FABRIC_STATUS, 999).build(),
                Samples.healthy(3).set(Reading.PERSISTENCE_MODE, 1).set(Reading.FABRIC_STATE, 3).set(Reading.FABRIC_STATUS, 0)
                        .set(Reading.FABRIC_HEALTH_MASK, 1).set(Reading.FABRIC_HEALTH_SUMMARY, 3).build(),
                Samples.healthy(4).set(Reading.PERSISTENCE_MODE, 1).set(Reading.FABRIC_STATE, 3).set(Reading.FABRIC_STATUS, 0)
                        .set(Reading.FABRIC_HEALTH_MASK, 2).set(Reading.FABRIC_HEALTH_SUMMARY, 1).build()));
        j.onSample(new NodeSample(read(HOSTS.resolve("dgx-h100"), T0, ClockSync.Status.SYNCHRONISED), s,
                OptionalInt.of(5)), T0);
        assertEquals(List.of("gpu:" + Samples.uuid(0) + " FABRIC_NOT_STARTED UNHEALTHY",
                        "gpu:" + Samples.uuid(2) + " FABRIC_FAILED UNHEALTHY",
                        "gpu:" + Samples.uuid(1) + " FABRIC_IN_PROGRESS DEGRADED",
                        "gpu:" + Samples.uuid(3) + " FABRIC_DEGRADED_BANDWIDTH DEGRADED"),
                j.health().reasons().stream().map(r -> r.subject() + " " + r.code() + " " + r.state()).toList());
        assertEquals(HealthState.UNHEALTHY, j.health().stateOf("nvlink_fabric"));
    }

    @Test
    void aStoppedFabricManagerOnAnNvSwitchSystemIsANodeFault() {
        Snapshot fabric = new Snapshot(1, T0, true, null, "570.124.06", 1, List.of(Samples.healthy(0)
                .set(Reading.PERSISTENCE_MODE, 1).set(Reading.FABRIC_STATE, 3).set(Reading.FABRIC_STATUS, 0).build()));
        NodeJudge j = judge();
        j.onSample(new NodeSample(read(HOSTS.resolve("dgx-h100-faults"), T0, ClockSync.Status.SYNCHRONISED), fabric,
                OptionalInt.empty()), T0);
        assertTrue(j.health().reasons().stream().anyMatch(r -> r.code().equals("FABRIC_MANAGER_NOT_RUNNING")
                && r.subject().equals("node") && r.action().contains("systemctl start nvidia-fabricmanager")),
                j.health().reasons().toString());
        NodeJudge running = judge();
        running.onSample(new NodeSample(read(HOSTS.resolve("dgx-h100"), T0, ClockSync.Status.SYNCHRONISED),
                new Snapshot(1, T0, true, null, "570.133.20", 1, fabric.gpus()), OptionalInt.empty()), T0);
        assertEquals(HealthState.HEALTHY, running.health().state(), running.health().toString());
    }

    @Test
    void theP2pMatrixOfAnNvLinkNodeNamesTheGpuThatReachesNoPeer() {
        List<GpuSample> three = gpus(3, true).gpus();
        String a = Samples.uuid(0);
        String b = Samples.uuid(1);
        String c = Samples.uuid(2);
        Snapshot s = new Snapshot(1, T0, true, null, "570.133.20", 3, three, new io.gpuagent.exporter.Topology(List.of(
                new io.gpuagent.exporter.Topology.Pair(a, b, 40, true, 4),
                new io.gpuagent.exporter.Topology.Pair(a, c, 40, false, 0),
                new io.gpuagent.exporter.Topology.Pair(b, c, 40, false, 0))));
        NodeJudge j = judge();
        j.onSample(new NodeSample(read(HOSTS.resolve("dgx-h100"), T0, ClockSync.Status.SYNCHRONISED), s,
                OptionalInt.of(3), OptionalInt.of(4)), T0);
        NodeReason r = j.health().reasons().getFirst();
        assertEquals("nvlink_p2p P2P_NVLINK_MISSING", r.check() + " " + r.code());
        assertTrue(r.message().startsWith("2 of 3 GPU pairs have no NVLink peer-to-peer") && r.message().endsWith(
                "GPU(s) " + c + " reach no peer over NVLink"), r.message());
        NodeJudge noLinks = judge();   // a PCIe-only node: no NVLink expected, no matrix judged
        noLinks.onSample(new NodeSample(read(HOSTS.resolve("dgx-h100"), T0, ClockSync.Status.SYNCHRONISED), s,
                OptionalInt.of(3), OptionalInt.empty()), T0);
        assertEquals(HealthState.HEALTHY, noLinks.health().state());
    }

    @Test
    void theTopologyIsLearnedAtTheFirstHealthyStartKeptAndNeverLearnedByAScan() throws IOException {
        Path state = Files.createDirectories(work.resolve("state"));
        Snapshot eight = gpus(8, true);   // four links each
        assertEquals(new ExpectedTopology.Expected(OptionalInt.empty(), OptionalInt.empty()),
                new ExpectedTopology(OptionalInt.empty(), OptionalInt.empty(), state).expected(eight, false));
        assertEquals(new ExpectedTopology.Expected(OptionalInt.of(8), OptionalInt.of(4)),
                new ExpectedTopology(OptionalInt.empty(), OptionalInt.empty(), state).expected(eight, true));
        // the next start reads it back: seven GPUs do not lower it
        assertEquals(new ExpectedTopology.Expected(OptionalInt.of(8), OptionalInt.of(4)),
                new ExpectedTopology(OptionalInt.empty(), OptionalInt.empty(), state).expected(gpus(7, true), true));
        assertTrue(Files.readString(state.resolve(ExpectedTopology.FILE)).contains("gpus=8\nnvlink-links=4\n"));
        // configured keys win
        assertEquals(new ExpectedTopology.Expected(OptionalInt.of(4), OptionalInt.of(18)),
                new ExpectedTopology(OptionalInt.of(4), OptionalInt.of(18), state).expected(eight, true));
    }

    @Test
    void persistenceModeOffIsAGpuSubjectDegradation() {
        NodeJudge j = judge();
        j.onSample(new NodeSample(read(HOSTS.resolve("dgx-h100"), T0, ClockSync.Status.SYNCHRONISED), gpus(2, false),
                OptionalInt.empty()), T0);
        assertEquals(HealthState.DEGRADED, j.health().state());
        assertEquals(List.of("gpu:" + Samples.uuid(0), "gpu:" + Samples.uuid(1)),
                j.health().reasons().stream().map(NodeReason::subject).toList());
    }

    @Test
    void aHostReadThatMissedItsDeadlineIsReportedAndAClearDropsWhatIsNotSeenNow() {
        NodeJudge j = judge();
        j.onSample(new NodeSample(HostSample.unread(T0, "the host read hangs"), gpus(1, true), OptionalInt.empty()), T0);
        assertEquals(HealthState.DEGRADED, j.health().stateOf("host_read"));
        assertEquals(HealthState.HEALTHY, j.health().stateOf("kernel_module"), "nothing else judged without a read");
        Instant t1 = T0.plusSeconds(30);
        j.onSample(new NodeSample(read(HOSTS.resolve("dgx-h100"), t1, ClockSync.Status.SYNCHRONISED), gpus(1, true),
                OptionalInt.empty()), t1);
        assertEquals(HealthState.DEGRADED, j.health().state(), "hysteresis");
        NodeJudge.Change c = j.clear("operator", "cleared by test", t1);
        assertEquals(HealthState.HEALTHY, c.node().state());
        assertEquals("CLEARED", c.code());
    }
}
