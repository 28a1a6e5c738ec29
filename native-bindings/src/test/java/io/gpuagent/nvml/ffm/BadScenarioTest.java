package io.gpuagent.nvml.ffm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.nvml.fake.FakeNvml;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A scenario with bad lines: the fake reports each on stderr and applies the rest; the JVM lives on. */
class BadScenarioTest {

    @Test
    void badLinesAreReportedWithFileAndLineAndTheProcessCarriesOn(@TempDir Path dir) throws Exception {
        Path scenario = dir.resolve("bad.conf");
        Files.write(scenario, List.of(
                "# a comment",
                "gpus = 3",
                "gpu.0.no_such_key = 1",          // line 3: unknown key
                "gpu.0.temp = hot",               // line 4: bad number
                "gpu.9.temp = 50",                // line 5: GPU index out of range
                "this line has no equals sign",   // line 6
                "gpu.0.temp = 66",
                "dcgm.gpu.0.field.1002 = 0.5"));  // line 8: the fake DCGM's key, not NVML's to report
        Result result = runProbe(scenario);
        assertEquals(0, result.exit, "the child JVM must exit normally:\n" + result.stderr + result.stdout);
        for (int line : new int[] {3, 4, 5, 6}) {
            assertTrue(result.stderr.contains(scenario + ":" + line + ":"),
                    "stderr names " + scenario + ":" + line + ":\n" + result.stderr);
        }
        assertFalse(result.stderr.contains(scenario + ":8:"), "dcgm.* lines are the fake DCGM's:\n" + result.stderr);
        assertTrue(result.stdout.contains("gpus=3"), result.stdout);
        assertTrue(result.stdout.contains("temp0=66"), "the good lines still apply:\n" + result.stdout);
    }

    @Test
    void migInstancesTheDriverWouldRefuseAreReportedAndLeftOut(@TempDir Path dir) throws Exception {
        Path scenario = dir.resolve("mig.conf");
        Files.write(scenario, List.of(
                "gpus = 4",
                "gpu.0.mig_mode = 1",
                "gpu.0.mig.2.profile = 3g.40gb",          // line 3: memory slices 4-7
                "gpu.0.mig.1.profile = 4g.40gb",          // line 4: memory slices 0-3
                "gpu.0.mig.7.profile = 1g.10gb",          // line 5: slice 0 is taken
                "gpu.0.mig.14.profile = 1g.10gb",         // line 6: slice 7 is no 1g.10gb placement
                "gpu.0.mig.5.profile = 9g.90gb",          // line 7: no such profile
                "gpu.1.mig.7.profile = 1g.10gb",          // line 8: GPU 1 is not in MIG mode
                "gpu.2.name = NVIDIA L40S",
                "gpu.2.mig_mode = 1",                     // line 10: an L40S has no MIG
                "gpu.0.mig.3.memory_used_mib = 10",       // line 11: an instance without a profile
                "event.1 = 0 xid 79 gi=7",                // line 12: GPU 0 has no GPU instance 7
                "gpu.0.mig.2.compute_instances = 4",      // line 13: 4 slices in a 3-slice instance
                "gpu.3.mig_mode = 1",
                "gpu.3.mig.7.profile = 1g.10gb+me",
                "gpu.3.mig.8.profile = 1g.10gb+me",       // line 16: one +me instance at most
                "gpu.3.mig.9.placement = 9"));            // line 17: no memory slice 9
        Result result = runProbe(scenario);
        assertEquals(0, result.exit, result.stderr + result.stdout);
        for (int line : new int[] {5, 6, 7, 8, 10, 11, 12, 13, 16, 17}) {
            assertTrue(result.stderr.contains(scenario + ":" + line + ":"), "stderr names line " + line + ":\n" + result.stderr);
        }
        assertTrue(result.stderr.contains("overlaps GPU instance 1 (4g.40gb)"), result.stderr);
        assertTrue(result.stderr.contains("more than 1 1g.10gb+me instance"), result.stderr);
        assertTrue(result.stdout.contains("mig0=1/0,2/0\n"), "the instances the driver would create:\n" + result.stdout);
        assertTrue(result.stdout.contains("mig1=\n") && result.stdout.contains("mig2=\n"), result.stdout);
        assertTrue(result.stdout.contains("mig3=7/0\n"), result.stdout);
    }

    @Test
    void aMissingScenarioFileIsTheDefaultMachine(@TempDir Path dir) throws Exception {
        Result result = runProbe(dir.resolve("absent.conf"));
        assertEquals(0, result.exit, result.stderr);
        assertTrue(result.stdout.contains("gpus=8"), result.stdout);
        assertTrue(result.stdout.contains("name0=NVIDIA H100 80GB HBM3"), result.stdout);
    }

    private record Result(int exit, String stdout, String stderr) {
    }

    private static Result runProbe(Path scenario) throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        ProcessBuilder builder = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp", classpath,
                ScenarioProbe.class.getName(), FakeNvml.LIBRARY.toString());
        builder.environment().put("FAKE_NVML_SCENARIO", scenario.toString());
        Path out = Files.createTempFile("probe", ".out");
        Path err = Files.createTempFile("probe", ".err");
        try {
            Process process = builder.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new AssertionError("the probe JVM did not finish in 60 s");
            }
            return new Result(process.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
