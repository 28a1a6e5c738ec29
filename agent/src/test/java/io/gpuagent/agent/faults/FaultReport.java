package io.gpuagent.agent.faults;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import io.gpuagent.agent.PackagedAgent;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Assumptions;

/**
 * The fault-injection suite's figures: one row per measured figure in {@code target/fault-injection-report.md}
 * (case, figure, limit, result), and the same line on stdout, so that they are in the test report whether the
 * case passed or not. Rows are recorded before the assertion on them.
 */
final class FaultReport {

    static final Path FILE = Path.of("target", "fault-injection-report.md");

    private FaultReport() {
    }

    /** Records one figure; returns {@code met} so that the caller asserts on what it recorded. */
    static boolean row(String faultCase, String figure, String limit, boolean met) {
        write(faultCase, figure, limit, met ? "met" : "**MISSED**");
        return met;
    }

    /** A case that could not run here, with why: recorded as SKIPPED, never passed silently. */
    static void skipped(String faultCase, String why) {
        write(faultCase, why, "-", "SKIPPED");
    }

    private static synchronized void write(String faultCase, String figure, String limit, String result) {
        String line = "| " + String.join(" | ", Arrays.asList(faultCase, figure, limit, result)
                .stream().map(s -> s.replace("|", "\\|")).toList()) + " |\n";
        System.out.print("fault-injection: " + line);
        try {
            if (!Files.exists(FILE)) {
                Files.createDirectories(FILE.toAbsolutePath().getParent());
                Files.writeString(FILE, """
                        # Fault-injection suite

                        Packaged agent on the fake driver; one row per figure, appended by each run of the FaultInjection*IT tests.

                        | case | figure | limit | result |
                        |---|---|---|---|
                        """);
            }
            Files.writeString(FILE, line, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Judges a latency p99 against its limit. Met: recorded and true. Missed while the same requests without the
     * fault (the control, measured just before on the same agent) missed it too: the machine is too loaded to
     * judge the fault, so the case is recorded and reported SKIPPED with both figures (not passed). Otherwise
     * recorded as missed and false.
     */
    static boolean latency(String faultCase, String figure, double p99, double controlP99, double limitMs) {
        String limit = "p99 < " + ms(limitMs);
        if (p99 < limitMs) {
            return row(faultCase, figure + " (without the fault: p99 " + ms(controlP99) + ")", limit, true);
        }
        if (controlP99 >= limitMs) {
            String why = figure + "; not judged: without the fault the same requests had p99 " + ms(controlP99)
                    + ", the machine is too loaded for a " + ms(limitMs) + " limit";
            write(faultCase, why, limit, "SKIPPED");
            Assumptions.abort(why);
        }
        return row(faultCase, figure + " (without the fault: p99 " + ms(controlP99) + ")", limit, false);
    }

    /** Sorted latencies in milliseconds of GETs of {@code path}, {@code pauseMs} apart, for {@code duration}. */
    static double[] latencies(PackagedAgent agent, String path, Duration duration, long pauseMs,
                              Consumer<HttpResponse<String>> check) throws InterruptedException {
        List<Double> out = new ArrayList<>();
        long end = System.nanoTime() + duration.toNanos();
        while (System.nanoTime() < end) {
            long t0 = System.nanoTime();
            HttpResponse<String> r = agent.get(path);
            out.add((System.nanoTime() - t0) / 1e6);
            check.accept(r);
            Thread.sleep(pauseMs);
        }
        return out.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    }

    /** "n requests, p50 x, p99 y, max z" of sorted latencies. */
    static String summary(double[] sorted) {
        return sorted.length + " requests, p50 " + ms(quantile(sorted, 0.5)) + ", p99 " + ms(quantile(sorted, 0.99))
                + ", max " + ms(sorted[sorted.length - 1]);
    }

    /** The {@code q} quantile (0..1) of sorted values, nearest rank. */
    static double quantile(double[] sorted, double q) {
        int rank = (int) Math.ceil(q * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    static String ms(double millis) {
        return String.format("%.1f ms", millis);
    }

    static String mib(long bytes) {
        return String.format("%.0f MiB", bytes / 1048576.0);
    }
}
