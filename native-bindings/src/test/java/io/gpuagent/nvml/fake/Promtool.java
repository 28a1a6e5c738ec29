package io.gpuagent.nvml.fake;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The Prometheus tools from Debian's {@code prometheus} package. A test that needs one skips where it is
 * missing, unless {@code -Dprometheus.required=true} (CI) makes that a failure.
 */
public final class Promtool {
    /** Which of promtool's lints a text may draw. */
    public enum Lint {
        /** None: our own series. */
        NONE,
        /**
         * Only about dcgm-exporter's own naming, which we keep on purpose (compatibility): counters without
         * {@code _total} (its {@code DCGM_EXP_..._TOTAL} families end in upper case), the {@code modelName}
         * label, {@code ..._PCIE_REPLAY_COUNTER} and {@code ..._FABRIC_HEALTH_SUMMARY} (a gauge, DCGM's field name).
         */
        DCGM_NAMES
    }

    private static final String DCGM_LINT = "DCGM_(FI|EXP)_\\S+ (counter metrics should have \"_total\" suffix"
            + "|label names should be written in 'snake_case' not 'camelCase'"
            + "|metric name should not include type '(counter|summary)')";

    private Promtool() {
    }

    /** {@code tool} on PATH; skips the test without it unless {@code -Dprometheus.required=true}. */
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

    /** {@code promtool check metrics}: parse errors fail, and so does any lint {@code allowed} does not cover. */
    public static void checkMetrics(String text, Lint allowed) throws Exception {
        Path promtool = require("promtool");
        Process p = new ProcessBuilder(promtool.toString(), "check", "metrics").redirectErrorStream(true).start();
        try (var in = p.getOutputStream()) {
            in.write(text.getBytes(StandardCharsets.UTF_8));
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "promtool did not finish");
        assertNotEquals(1, p.exitValue(), "promtool could not parse the text:\n" + out);
        List<String> problems = out.lines().filter(l -> !l.isBlank())
                .filter(l -> !(allowed == Lint.DCGM_NAMES && l.matches(DCGM_LINT)))
                .distinct().toList();
        assertEquals(List.of(), problems, "promtool check metrics:\n" + out);
    }
}
