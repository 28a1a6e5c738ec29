package io.gpuagent.dcgm.ffm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The fake DCGM's strict mode: a group, field group or handle used after its destroy or after dcgmShutdown, or a
 * policy callback left registered at shutdown, aborts naming the call; the bindings used normally stay clean. Each
 * case runs in a child JVM.
 */
class DcgmStrictModeTest {

    @ParameterizedTest
    @CsvSource({
            "group-after-destroy, dcgmGroupAddEntity: group 1 used after dcgmGroupDestroy",
            "field-group-after-destroy, dcgmWatchFields: field group 1 used after dcgmFieldGroupDestroy",
            "handle-after-shutdown, dcgmGetAllSupportedDevices: called after dcgmShutdown",
            "handle-after-stop, dcgmGetAllSupportedDevices: handle 0x",
            "callback-left-registered, dcgmShutdown: a policy callback is still registered on group 1",
    })
    void misuseAbortsNamingTheCall(String name, String expected) throws Exception {
        Result r = child(name, "1");
        assertNotEquals(0, r.exit, r.output);
        assertTrue(r.output.contains("fake-dcgm: STRICT: " + expected), r.output);
    }

    @Test
    void withoutStrictModeAGroupUsedAfterDestroyIsAnError() throws Exception {
        Result r = child("group-after-destroy", "0");
        assertEquals(0, r.exit, r.output);
        assertTrue(r.output.contains("answered -5"), r.output);
    }

    @Test
    void badDcgmLinesAreReportedWithTheirLineAndTheRestApplies() throws Exception {
        Result r = child("group-after-destroy", "0", "dcgm.no_such_key = 1", "dcgm.gpu.5.field.1002 = 0.5",
                "dcgm.policy.1 = 0 meltdown", "dcgm.gpu.1.field.1002 = 0.5");
        assertEquals(0, r.exit, r.output);
        assertTrue(r.output.contains(":2: unknown key 'dcgm.no_such_key'"), r.output);
        assertTrue(r.output.contains(":3: GPU index 5 out of range (gpus = 2)"), r.output);
        assertTrue(r.output.contains(":4: expected '<gpu> <dbe|pci|"), r.output);
        assertTrue(!r.output.contains(":5:"), r.output);
        assertTrue(!r.output.contains("fake-nvml:"), "the fake NVML's parser, inside the fake DCGM, stays quiet:\n" + r.output);
    }

    @Test
    void theBindingsStayCleanThroughABurstAndAClose() throws Exception {
        Result r = child("bindings-clean", "1");
        assertEquals(0, r.exit, r.output);
        assertTrue(r.output.contains("violations 1000, dropped 0"), r.output);
        assertTrue(r.output.contains("clean"), r.output);
    }

    private record Result(int exit, String output) {
    }

    private static Result child(String name, String strict, String... lines) throws Exception {
        Path scenario = Files.createTempFile(Path.of("target").toAbsolutePath(), "dcgm-strict", ".conf");
        Files.write(scenario, List.of("gpus = 2"));
        Files.write(scenario, List.of(lines), java.nio.file.StandardOpenOption.APPEND);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-XX:-CreateCoredumpOnCrash",
                "-XX:ErrorFile=" + Path.of("target").toAbsolutePath() + "/hs_err_dcgm_strict_%p.log",
                "-cp", System.getProperty("java.class.path"), DcgmStrictChild.class.getName(), name,
                FakeDcgm.LIBRARY.toString()).redirectErrorStream(true);
        pb.environment().put("FAKE_NVML_SCENARIO", scenario.toString());
        pb.environment().put("FAKE_DCGM_STRICT", strict);
        pb.environment().remove("FAKE_NVML_STRICT");
        Process p = pb.start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("child did not finish: " + name);
        }
        return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes()));
    }
}
