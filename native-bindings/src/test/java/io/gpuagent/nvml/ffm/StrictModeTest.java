package io.gpuagent.nvml.ffm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.nvml.fake.FakeNvml;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The fake's strict mode: what the real library would crash on (a use after free of a handle, event set or
 * GPM sample, a shutdown under a call in flight) aborts the process with the call named, and the holders
 * file stands for the devices a process keeps open while NVML is initialised. Each case runs in a child JVM.
 */
class StrictModeTest {

    @ParameterizedTest
    @CsvSource({
            "handle-after-shutdown, nvmlDeviceGetTemperature: a device handle used after the last nvmlShutdown",
            "stale-handle-after-reinit, nvmlDeviceGetTemperature: a device handle from before the last nvmlShutdown",
            "shutdown-under-call, nvmlDeviceGetTemperature: the last nvmlShutdown ran while this call was in flight",
            "event-set-after-free, nvmlEventSetWait_v2: an event set that was freed",
    })
    void misuseAbortsNamingTheCall(String scenario, String expected) throws Exception {
        Result r = child(scenario, "latency_ms.nvmlDeviceGetTemperature = 300");
        assertNotEquals(0, r.exit, r.output);
        assertTrue(r.output.contains("fake-nvml: STRICT: " + expected), r.output);
    }

    @ParameterizedTest
    @CsvSource({
            "mig-handle-after-destroy, nvmlDeviceGetUUID: a MIG device handle whose compute instance was destroyed",
            "mig-handle-after-shutdown, nvmlDeviceGetUUID: a device handle used after the last nvmlShutdown",
            "gpu-instance-after-destroy, nvmlGpuInstanceGetInfo: a GPU instance handle of an instance that was destroyed",
            "gpu-instance-after-shutdown, nvmlGpuInstanceGetInfo: a GPU instance handle used after the last nvmlShutdown",
    })
    void migHandlesOfDestroyedInstancesAbortNamingTheCall(String scenario, String expected) throws Exception {
        Result r = child(scenario, MIG_LINES);
        assertNotEquals(0, r.exit, r.output);
        assertTrue(r.output.contains("fake-nvml: STRICT: " + expected), r.output);
    }

    @ParameterizedTest
    @CsvSource({
            "mig-handle-after-destroy, uuid answered 2",
            "gpu-instance-after-destroy, instance info answered 2",
    })
    void withoutStrictModeAHandleOfADestroyedInstanceIsAnInvalidArgument(String scenario, String expected)
            throws Exception {
        Path file = Files.createTempFile(Path.of("target").toAbsolutePath(), "lenient", ".conf");
        Files.write(file, List.of(MIG_LINES));
        Process p = start(file, scenario, "strict = 0");
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), scenario);
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains(expected), out);
    }

    /** GPU 0 in MIG mode with GPU instance 7 (a 1g.10gb): MIG device slot 0. */
    private static final String[] MIG_LINES = {"gpu.0.mig_mode = 1", "gpu.0.mig.7.profile = 1g.10gb"};

    @Test
    void theBindingsGuardKeepsTheSameSequencesSafe() throws Exception {
        Result r = child("guarded", "latency_ms.nvmlDeviceGetTemperature = 300");
        assertEquals(0, r.exit, r.output);
        assertTrue(r.output.contains("temperature after re-init"), r.output);
        assertTrue(!r.output.contains("STRICT"), r.output);
    }

    @Test
    void theHoldersFileLivesFromFirstInitToLastShutdown() throws Exception {
        Path holders = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "holders");
        Path scenario = Files.createTempFile(Path.of("target").toAbsolutePath(), "holders", ".conf");
        Files.writeString(scenario, "holders = " + holders + "\n");
        Process clean = start(scenario, "handle-after-shutdown", "strict = 0");
        assertEquals(0, clean.waitFor(30, TimeUnit.SECONDS) ? clean.exitValue() : -1);
        assertEquals(List.of(), list(holders), "the last nvmlShutdown removes the holder");

        // A process that dies with NVML initialised leaves its file behind, like a stuck holder.
        Process held = start(scenario, "hold", "");
        Path mine = holders.resolve(Long.toString(held.pid()));
        FakeNvml.await(() -> Files.exists(mine), "the holder file " + mine);
        held.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        assertEquals(List.of(mine), list(holders));
    }

    private static List<Path> list(Path dir) throws IOException {
        try (var files = Files.list(dir)) {
            return files.toList();
        }
    }

    private record Result(int exit, String output) {
    }

    private static Result child(String scenarioName, String... lines) throws Exception {
        Path scenario = Files.createTempFile(Path.of("target").toAbsolutePath(), "strict", ".conf");
        Files.write(scenario, List.of(lines));
        Process p = start(scenario, scenarioName, "strict = 1");
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("child did not finish: " + scenarioName);
        }
        String out = new String(p.getInputStream().readAllBytes());
        return new Result(p.exitValue(), out);
    }

    private static Process start(Path scenario, String name, String strictLine) throws IOException {
        Files.writeString(scenario, strictLine + "\n", java.nio.file.StandardOpenOption.APPEND);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-XX:-CreateCoredumpOnCrash",
                "-XX:ErrorFile=" + Path.of("target").toAbsolutePath() + "/hs_err_strict_%p.log",
                "-cp", System.getProperty("java.class.path"), StrictChild.class.getName(), name, FakeNvml.LIBRARY.toString())
                .redirectErrorStream(true);
        pb.environment().put("FAKE_NVML_SCENARIO", scenario.toString());
        pb.environment().remove("FAKE_NVML_STRICT");
        return pb.start();
    }
}
