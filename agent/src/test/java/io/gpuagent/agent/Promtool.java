package io.gpuagent.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Real Prometheus tools from the Debian package; a test that needs one skips where it is missing, except in CI. */
public final class Promtool {

    /** promtool's lints about dcgm-exporter's own names, which we keep on purpose (compatibility). */
    private static final String DCGM_LINT = "DCGM_FI_\\S+ (counter metrics should have \"_total\" suffix"
            + "|label names should be written in 'snake_case' not 'camelCase'"
            + "|metric name should not include type 'counter')";

    private Promtool() {
    }

    /** {@code tool} on PATH; skips the test without it unless {@code -Dprometheus.required=true} (CI). */
    public static Path require(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            Path p = Path.of(dir, tool);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        if (Boolean.getBoolean("prometheus.required")) {
            throw new AssertionError(tool + " is not on PATH; install Debian's prometheus package (apt-get install prometheus)");
        }
        assumeTrue(false, tool + " is not on PATH (apt-get install prometheus)");
        return null;
    }

    /** {@code promtool check metrics}: parse errors fail; only dcgm-exporter's deliberate names may be linted. */
    public static void checkMetrics(String text) throws Exception {
        Path promtool = require("promtool");
        Process p = new ProcessBuilder(promtool.toString(), "check", "metrics").redirectErrorStream(true).start();
        try (var in = p.getOutputStream()) {
            in.write(text.getBytes(StandardCharsets.UTF_8));
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "promtool did not finish");
        List<String> problems = out.lines().filter(l -> !l.isBlank()).filter(l -> !l.matches(DCGM_LINT)).distinct().toList();
        assertEquals(List.of(), problems, "promtool check metrics:\n" + out);
        assertTrue(p.exitValue() == 0 || out.lines().allMatch(l -> l.isBlank() || l.matches(DCGM_LINT)), out);
    }
}
