package io.gpuagent.agent.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The host read on the fixture trees of src/test/resources/host (docs/node-health.md). */
class HostReaderTest {

    static final Path HOSTS = Path.of("src/test/resources/host");
    static final ClockSync SYNCED = new ClockSync(ClockSync.Status.SYNCHRONISED, 1000, "test");

    @TempDir
    Path stateDir;

    @Test
    void aHealthyDgxReadsItsModuleAndEightPortsAndNoStuckHolder() {
        HostSample s = new HostReader(HOSTS.resolve("dgx-h100"), stateDir, () -> SYNCED).read(Instant.EPOCH);
        assertTrue(s.read());
        assertEquals(List.of(), s.problems());
        assertEquals(Optional.of("570.133.20"), s.kernelModule());
        assertEquals(List.of(), s.holders(), "sleeping (S) holders are fine");
        assertEquals(8, s.ibPorts().size());
        IbPort first = s.ibPorts().getFirst();
        assertEquals("mlx5_0/1", first.name());
        assertTrue(first.up());
        assertEquals(OptionalDouble.of(400), first.rateGbps());
        assertEquals("InfiniBand", first.linkLayer());
        assertEquals(0L, first.counters().get("link_downed"));
        assertTrue(s.stateDirFreeBytes().isPresent());
        assertEquals(SYNCED, s.clock());
        assertEquals(Optional.of(true), s.fabricManagerRunning(), "installed, its cgroup has a process");
    }

    @Test
    void theFaultyDgxShowsItsDStateHolderOfAnNvidiaFileOnlyAndItsPorts() {
        HostSample s = new HostReader(HOSTS.resolve("dgx-h100-faults"), stateDir, () -> SYNCED).read(Instant.EPOCH);
        assertEquals(Optional.of("570.124.06"), s.kernelModule());
        assertEquals(List.of(new DeviceHolder(3001, 126457, "python (rank 3)", "/dev/nvidia3")), s.holders(),
                "the D-state bash on /dev/pts is not a GPU's");
        IbPort down = s.ibPorts().get(3);
        assertEquals("DOWN", down.state());
        assertEquals("Disabled", down.physState());
        assertEquals(OptionalDouble.of(200), s.ibPorts().get(5).rateGbps());
        assertEquals(Optional.of(false), s.fabricManagerRunning(), "installed, no cgroup: stopped");
    }

    @Test
    void aMissingModuleIsNotAProblemButAnAbsentVersion(@TempDir Path root) {
        HostSample s = new HostReader(root, stateDir, () -> SYNCED).read(Instant.EPOCH);
        assertEquals(Optional.empty(), s.kernelModule());
        assertEquals(List.of(), s.ibPorts());
        assertEquals(Optional.empty(), s.fabricManagerRunning(), "not installed");
        assertTrue(s.problems().stream().anyMatch(p -> p.contains("proc")), s.problems().toString());
    }

    @Test
    void parsesSysfsWordsRatesAndStatLines() {
        assertEquals("ACTIVE", IbPort.word("4: ACTIVE\n"));
        assertEquals("LinkUp", IbPort.word("5: LinkUp"));
        assertEquals(OptionalDouble.of(2.5), IbPort.rate("2.5 Gb/sec (1X SDR)"));
        assertEquals(OptionalDouble.empty(), IbPort.rate("unknown"));
        ProcStat p = ProcStat.parse("42 (a (b) c) D 1 42 42 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 777 0 0").orElseThrow();
        assertEquals(new ProcStat(42, "a (b) c", 'D', 777), p);
        assertEquals(Optional.empty(), ProcStat.parse("garbage"));
    }

    @Test
    void adjtimexAnswersOnThisMachine() {
        ClockSync c = new Adjtimex().get();
        assertTrue(c.status() != ClockSync.Status.UNKNOWN, c.toString());
    }
}
