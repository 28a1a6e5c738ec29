package io.gpuagent.nvml.check;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.nvml.ffm.NvmlLibrary;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Every symbol the bindings can call exists in a real driver, or is optional with a fallback that does. */
class SymbolCheckTest {

    @Test
    void everyBoundSymbolIsExportedByTheReal535LibraryOrFallsBack() throws Exception {
        RealNvml.assumePresent();
        Set<String> exported = exports(RealNvml.LIBRARY);
        // The library we fetched is the one golden/syms_535.txt was taken from (docs/nvml.md).
        assertEquals(golden535(), exported);
        assertEquals(List.of(), unresolvable(exported));
    }

    @Test
    void everyBoundSymbolIsInTheCommitted535ListOrFallsBack() throws IOException {
        assertEquals(List.of(), unresolvable(golden535()));
    }

    @Test
    void theFakeDriverExportsEveryBoundSymbol() throws Exception {
        Set<String> fake = exports(Path.of(System.getProperty("fake.nvml.dir", "target/fake-nvml"), "libnvidia-ml.so.1"));
        List<String> missing = NvmlLibrary.boundSymbols().stream().map(NvmlLibrary.BoundSymbol::name)
                .filter(name -> !fake.contains(name)).toList();
        assertEquals(List.of(), missing, "bound symbols the fake driver does not export");
    }

    /** Bound symbols that neither exist nor have an existing fallback: each would fail on that driver. */
    private static List<String> unresolvable(Set<String> exported) {
        List<String> problems = new ArrayList<>();
        for (NvmlLibrary.BoundSymbol symbol : NvmlLibrary.boundSymbols()) {
            if (exported.contains(symbol.name())) {
                continue;
            }
            if (!symbol.optional()) {
                problems.add(symbol.name() + " is required but not exported");
            } else if (symbol.fallback() != null && !exported.contains(symbol.fallback())) {
                problems.add(symbol.name() + " is missing and so is its fallback " + symbol.fallback());
            }
        }
        return problems;
    }

    static Set<String> exports(Path library) throws Exception {
        String out = RealNvml.run("nm", "-D", "--defined-only", library.toString());
        return out.lines().map(l -> l.trim().split("\\s+")).filter(f -> f.length == 3 && f[2].startsWith("nvml"))
                .map(f -> f[2]).collect(Collectors.toSet());
    }

    private static Set<String> golden535() throws IOException {
        try (InputStream in = SymbolCheckTest.class.getResourceAsStream("/golden/syms_535.txt")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().map(String::trim)
                    .filter(s -> !s.isEmpty()).collect(Collectors.toSet());
        }
    }

    @Test
    void optionalSymbolsWithoutAnExportAreAllowedOnlyAsCapabilities() {
        // An optional symbol with no fallback is a capability (e.g. GPM): missing means "not supported".
        assertTrue(NvmlLibrary.boundSymbols().stream().anyMatch(NvmlLibrary.BoundSymbol::optional));
    }
}
