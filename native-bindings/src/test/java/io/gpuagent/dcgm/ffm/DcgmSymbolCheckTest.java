package io.gpuagent.dcgm.ffm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.nvml.fake.FakeNvml;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Every DCGM symbol the bindings bind is declared in NVIDIA's headers (required ones in 4.0.0's too) and exported by
 * the fake; the 4.0 build of the fake lacks exactly the optional symbols 4.0 lacks (dcgmStopDiagnostic came in 4.3,
 * dcgmConnect_v3 in 4.5).
 */
class DcgmSymbolCheckTest {

    private static final List<DcgmFunctions.Bound> BOUND = new DcgmFunctions(FakeNvml.DCGM_LIBRARY.toString()).bound();

    @Test
    void everyBoundSymbolIsInNvidiasHeaderAndTheRequiredOnesInDcgm40s() throws Exception {
        String h46 = Files.readString(Path.of("src/main/c/dcgm/include/dcgm_agent.h"));
        String h40 = Files.readString(Path.of("src/main/c/dcgm/include-4.0/dcgm_agent.h"));
        for (DcgmFunctions.Bound b : BOUND) {
            assertTrue(declares(h46, b.name()), b.name() + " is not declared by DCGM 4.6.0's dcgm_agent.h");
            assertTrue(b.optional() || declares(h40, b.name()), b.name() + " is required but DCGM 4.0.0 lacks it");
        }
        assertEquals(List.of("dcgmConnect_v3", "dcgmStopDiagnostic"), BOUND.stream().filter(b -> !declares(h40, b.name()))
                .map(DcgmFunctions.Bound::name).toList());
    }

    @Test
    void theFakesExportWhatTheirVersionExports() throws Exception {
        Set<String> fake46 = exports(FakeNvml.DCGM_LIBRARY);
        Set<String> fake40 = exports(FakeNvml.DCGM_LIBRARY_40);
        for (DcgmFunctions.Bound b : BOUND) {
            assertTrue(fake46.contains(b.name()), b.name() + " is not exported by the fake");
        }
        assertEquals(Set.of("dcgmConnect_v3", "dcgmStopDiagnostic"), fake46.stream().filter(s -> !fake40.contains(s)).collect(Collectors.toSet()));
    }

    private static boolean declares(String header, String name) {
        return header.contains(" " + name + "(") || header.contains("*" + name + "(");
    }

    private static Set<String> exports(Path library) throws Exception {
        Process p = new ProcessBuilder("nm", "-D", "--defined-only", library.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        return Arrays.stream(out.split("\n")).map(l -> l.trim().split("\\s+")).filter(f -> f.length == 3)
                .map(f -> f[2]).collect(Collectors.toSet());
    }
}
