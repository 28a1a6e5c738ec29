package io.gpuagent.exporter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** {@code promtool check metrics} on exposition text; skipped (assumption) where promtool is not installed. */
final class PromtoolCheck {
    private PromtoolCheck() {
    }

    /**
     * What promtool's linter says about dcgm-exporter's own naming, which we keep on purpose (compatibility):
     * counters without {@code _total}, the {@code modelName} label, and {@code ..._PCIE_REPLAY_COUNTER}.
     */
    private static final String DCGM_LINT = "DCGM_FI_\\S+ (counter metrics should have \"_total\" suffix"
            + "|label names should be written in 'snake_case' not 'camelCase'"
            + "|metric name should not include type 'counter')";

    /**
     * Parse errors always fail. With {@code dcgmCompatible}, the lints about dcgm-exporter's names are allowed;
     * otherwise the text must be clean.
     */
    static void assertValid(String text, boolean dcgmCompatible) throws Exception {
        assumeTrue(onPath("promtool"), "promtool is not on PATH");
        Process p = new ProcessBuilder("promtool", "check", "metrics").redirectErrorStream(true).start();
        try (var in = p.getOutputStream()) {
            in.write(text.getBytes(StandardCharsets.UTF_8));
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(true, p.waitFor(60, TimeUnit.SECONDS));
        int rc = p.exitValue();
        assertNotEquals(1, rc, "promtool could not parse the text:\n" + out);
        List<String> problems = out.lines().filter(l -> !l.isBlank())
                .filter(l -> !(dcgmCompatible && l.matches(DCGM_LINT)))
                .distinct().toList();
        assertEquals(List.of(), problems, "promtool lint:\n" + out);
    }

    private static boolean onPath(String exe) {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String dir : path.split(File.pathSeparator)) {
            if (new File(dir, exe).canExecute()) {
                return true;
            }
        }
        return false;
    }
}
