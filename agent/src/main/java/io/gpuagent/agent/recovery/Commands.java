package io.gpuagent.agent.recovery;

import jakarta.enterprise.context.ApplicationScoped;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import io.smallrye.faulttolerance.api.Guard;
import org.eclipse.microprofile.faulttolerance.Bulkhead;

/**
 * Runs the configured commands (reset, drain, reboot) with a hard time bound: a command still running at its
 * timeout is killed (its whole process tree), and its output is kept (the tail, bounded) for the audit line.
 * A command that cannot even be started (not installed, not executable) four times in a row opens its circuit
 * breaker for a minute, so a broken setup fails fast instead of forking on every fault. Each command (by its
 * config key) has its own breaker: a reboot command that is not installed must not stop resets. Never retried:
 * a reset is not something to repeat blindly.
 */
@ApplicationScoped
public class Commands {

    /** Bytes of output kept for the audit line. */
    static final int OUTPUT_LIMIT = 2048;

    /**
     * Breakers kept at most: the keys are the command settings (reset, drain, reboot), so more than this is a
     * programming error, not load.
     */
    static final int MAX_COMMANDS = 8;

    private final ConcurrentMap<String, Guard> breakers = new ConcurrentHashMap<>();

    /** How a command ended. {@code exitCode} is -1 when it timed out. */
    public record Outcome(int exitCode, boolean timedOut, String output, long millis) {
        public boolean ok() {
            return !timedOut && exitCode == 0;
        }

        public String describe() {
            String out = output.isBlank() ? "no output" : "output: " + output.strip();
            return (timedOut ? "timed out after " + millis + " ms and was killed" : "exit " + exitCode + " after "
                    + millis + " ms") + "; " + out;
        }
    }

    /**
     * Runs {@code argv}, the command configured under {@code key} (e.g. {@code gpu-agent.recovery.reset-command}),
     * behind that command's own breaker; the bulkhead (processes at once) is shared by all commands.
     */
    @Bulkhead(8)
    public Outcome run(String key, List<String> argv, Duration timeout) throws IOException, InterruptedException {
        try {
            return breaker(key).call(() -> execute(argv, timeout), Outcome.class);
        } catch (IOException | InterruptedException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);   // execute throws nothing else
        }
    }

    private Guard breaker(String key) {
        Guard g = breakers.get(key);
        if (g != null) {
            return g;
        }
        synchronized (breakers) {
            if (breakers.size() >= MAX_COMMANDS && !breakers.containsKey(key)) {
                throw new IllegalStateException("more than " + MAX_COMMANDS + " commands: " + breakers.keySet() + " and " + key);
            }
            return breakers.computeIfAbsent(key, k -> Guard.create().withDescription("command " + k)
                    .withCircuitBreaker().requestVolumeThreshold(4).failureRatio(1.0).delay(1, ChronoUnit.MINUTES)
                    .failOn(IOException.class).done()
                    .build());
        }
    }

    static Outcome execute(List<String> argv, Duration timeout) throws IOException, InterruptedException {
        long start = System.nanoTime();
        Process p = new ProcessBuilder(argv).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        Tail tail = new Tail(p.getInputStream());
        Thread reader = Thread.ofVirtual().name("command-output").start(tail);
        boolean done;
        try {
            done = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            kill(p);
            throw e;
        }
        if (!done) {
            kill(p);
        }
        reader.join(1000);
        long millis = (System.nanoTime() - start) / 1_000_000;
        return new Outcome(done ? p.exitValue() : -1, !done, tail.text(), millis);
    }

    private static void kill(Process p) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        try {
            p.waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Keeps the last {@link #OUTPUT_LIMIT} bytes a command wrote. */
    private static final class Tail implements Runnable {
        private final InputStream in;
        private final ByteArrayOutputStream buf = new ByteArrayOutputStream();
        private boolean truncated;

        Tail(InputStream in) {
            this.in = in;
        }

        @Override
        public void run() {
            byte[] chunk = new byte[4096];
            try (in) {
                for (int n; (n = in.read(chunk)) >= 0; ) {
                    synchronized (this) {
                        buf.write(chunk, 0, n);
                        if (buf.size() > 2 * OUTPUT_LIMIT) {
                            byte[] all = buf.toByteArray();
                            buf.reset();
                            buf.write(all, all.length - OUTPUT_LIMIT, OUTPUT_LIMIT);
                            truncated = true;
                        }
                    }
                }
            } catch (IOException e) {
                // The process was killed or closed its output: what was read is kept.
            }
        }

        synchronized String text() {
            byte[] all = buf.toByteArray();
            int from = Math.max(0, all.length - OUTPUT_LIMIT);
            String s = new String(all, from, all.length - from, StandardCharsets.UTF_8).replaceAll("[\\p{Cntrl}&&[^\n\t]]", "");
            return (truncated || from > 0 ? "..." : "") + s;
        }
    }
}
