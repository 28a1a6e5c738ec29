package io.gpuagent.agent;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The fake NVML driver's scenario file for this test JVM ({@code FAKE_NVML_SCENARIO}, set by surefire) and
 * the waiting that goes with changing it: the fake checks it every 10 ms, the sampler reads on its interval.
 */
public final class Scenario {
    public static final Path FILE = Path.of(System.getenv().getOrDefault("FAKE_NVML_SCENARIO", "target/test-scenario.conf"));
    public static final Path FAKE_LIBRARY = Path.of(System.getProperty("fake.nvml.library",
            "../native-bindings/target/fake-nvml/libnvidia-ml.so.1"));

    /**
     * The fake fires each {@code event.<n>} once per process and in increasing {@code n}: every test of this
     * JVM takes its numbers here, so none reuses another's. Starts high and random so that a number from an
     * earlier test run never matters.
     */
    private static final AtomicLong NEXT_EVENT = new AtomicLong(ThreadLocalRandom.current().nextLong(1L << 40, 1L << 50));

    private Scenario() {
    }

    /** A fresh {@code event.<n>} number for this JVM. */
    public static long nextEventNumber() {
        return NEXT_EVENT.getAndIncrement();
    }

    /** Replaces the scenario atomically (a reader never sees half a file). */
    public static void write(String text) {
        try {
            Path dir = FILE.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, "scenario", ".tmp");
            Files.writeString(tmp, text);
            Files.move(tmp, FILE, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Retries {@code assertion} until it passes or {@code timeout} runs out (then its last failure is thrown). */
    public static void eventually(Duration timeout, Runnable assertion) {
        long end = System.nanoTime() + timeout.toNanos();
        while (true) {
            try {
                assertion.run();
                return;
            } catch (AssertionError | RuntimeException e) {
                if (System.nanoTime() > end) {
                    throw e;
                }
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }
}
