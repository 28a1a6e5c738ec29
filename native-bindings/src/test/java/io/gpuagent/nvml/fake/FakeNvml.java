package io.gpuagent.nvml.fake;

import static org.junit.jupiter.api.Assertions.fail;

import io.gpuagent.nvml.Nvml;
import io.gpuagent.nvml.NvmlException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

/**
 * The fake NVML driver as every test module drives it: its two builds (shipped in this test-jar), the
 * scenario file this JVM's fake reads ({@code FAKE_NVML_SCENARIO}, set by surefire) and waiting on a
 * condition instead of sleeping.
 *
 * <p>Each scenario written here carries a {@code marker}; the fake writes it to {@code <scenario>.applied}
 * once it answers from that scenario, so {@link #apply} returns when the change is really in force (the
 * fake only watches the file while NVML is initialised in this process).
 */
public final class FakeNvml {
    /** The current driver ABI. */
    public static final Path LIBRARY = library("fake-nvml");
    /** The same driver exporting only what a 535 driver exports. */
    public static final Path LIBRARY_535 = library("fake-nvml-535");
    /** The fake DCGM (libdcgm.so.4, DCGM 4.6's exports); it reads the same scenario file ({@code dcgm.*} keys). */
    public static final Path DCGM_LIBRARY = library("fake-dcgm", "libdcgm.so.4");
    /** The fake DCGM as a 4.0 library: version 4.0.0, no {@code dcgmStopDiagnostic} (4.3) or {@code dcgmConnect_v3} (4.5). */
    public static final Path DCGM_LIBRARY_40 = library("fake-dcgm-4.0", "libdcgm.so.4");
    public static final Path SCENARIO_FILE = Path.of(System.getenv().getOrDefault("FAKE_NVML_SCENARIO",
            "target/test-scenario.conf")).toAbsolutePath();
    /** Where the fake confirms the marker of the scenario in force. */
    public static final Path APPLIED_FILE = Path.of(SCENARIO_FILE + ".applied");

    private static final Duration WAIT = Duration.ofSeconds(10);
    /**
     * The fake fires each {@code event.<n>} once per process and in increasing {@code n}: every test of this
     * JVM takes its numbers here. Starts high and random so that a number from an earlier run never matters.
     */
    private static final AtomicLong NEXT_EVENT = new AtomicLong(ThreadLocalRandom.current().nextLong(1L << 40, 1L << 50));
    private static final AtomicLong GENERATION = new AtomicLong();
    private static Nvml shared;

    private FakeNvml() {
    }

    /** NVML over the fake, as the bindings open the real driver. */
    public static Nvml open() {
        return Nvml.open(LIBRARY.toString());
    }

    /**
     * NVML over the fake, opened once for this JVM and never closed: a sampler's hung call may still be
     * inside the driver when a test ends, and closing under it is the use after free strict mode aborts on.
     */
    public static synchronized Nvml shared() {
        if (shared == null) {
            if (!Files.exists(SCENARIO_FILE)) {
                write(Scenario.defaults());
            }
            shared = open();
        }
        return shared;
    }

    /** Opens {@code library} once the scenario just written (e.g. clearing {@code init_error}) lets init succeed. */
    public static Nvml openWhenReady(Path library) {
        Nvml[] opened = new Nvml[1];
        await(() -> {
            try {
                opened[0] = Nvml.open(library.toString());
                return true;
            } catch (NvmlException e) {
                return false;
            }
        }, "nvmlInit_v2 to succeed on " + library);
        return opened[0];
    }

    /** A fresh {@code event.<n>} number for this JVM. */
    public static long nextEventNumber() {
        return NEXT_EVENT.getAndIncrement();
    }

    /**
     * Replaces the scenario atomically (a reader never sees half a file) without waiting: for a scenario
     * read at the next {@code nvmlInit}, or one whose effect a test waits for on its own terms. Returns its
     * marker.
     */
    public static String write(Scenario scenario) {
        return write(scenario.text());
    }

    /** {@link #write(Scenario)} for scenario text (lines, or one text of several lines). */
    public static String write(String... lines) {
        String text = String.join("\n", lines);
        String marker = "m" + ProcessHandle.current().pid() + "-" + GENERATION.incrementAndGet();
        try {
            Path dir = SCENARIO_FILE.getParent();
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, "scenario", ".tmp");
            Files.writeString(tmp, text + (text.isEmpty() || text.endsWith("\n") ? "" : "\n") + "marker = " + marker + "\n");
            Files.move(tmp, SCENARIO_FILE, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return marker;
    }

    /** Replaces the scenario and returns once the fake answers from it (NVML must be open in this JVM). */
    public static void apply(Scenario scenario) {
        awaitApplied(write(scenario));
    }

    /** {@link #apply(Scenario)} for scenario text (lines, or one text of several lines). */
    public static void apply(String... lines) {
        awaitApplied(write(lines));
    }

    /** Back to the fake's defaults (8 idle H100s), once the fake answers from them. */
    public static void reset() {
        apply(Scenario.defaults());
    }

    /** Waits until the fake has applied the scenario that carried {@code marker}. */
    public static void awaitApplied(String marker) {
        await(() -> marker.equals(applied()), "the fake to apply " + SCENARIO_FILE + " (marker " + marker
                + "); it watches the file only while NVML is open in this JVM");
    }

    private static String applied() {
        try {
            return Files.readString(APPLIED_FILE).strip();
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Polls {@code condition} until it holds; fails the test after 10 s. */
    public static void await(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting for " + what);
            }
            pause(5);
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
            pause(50);
        }
    }

    private static void pause(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting", e);
        }
    }

    /**
     * The build in this test-jar: used where it is in the reactor's test classes, copied out of the jar
     * (dlopen needs a file) to a path named by its content, so every class loader of a JVM (Quarkus tests
     * load the kit again) finds the same file. {@code -Dfake.nvml.library} overrides the current build, for a
     * module whose application is configured with a path: one JVM must load one copy of the fake.
     */
    private static Path library(String build) {
        return library(build, "libnvidia-ml.so.1");
    }

    private static Path library(String build, String soname) {
        String override = System.getProperty("fake.nvml.library");
        if (override != null && !override.isBlank() && build.equals("fake-nvml")) {
            return Path.of(override).toAbsolutePath();
        }
        String resource = build + "/" + soname;
        URL url = FakeNvml.class.getResource(resource);
        if (url == null) {
            throw new IllegalStateException("the fake driver is not in the test kit (" + resource
                    + "): build native-bindings first (./mvnw -pl <module> -am verify)");
        }
        try {
            if (url.getProtocol().equals("file")) {
                return Path.of(url.toURI());
            }
            byte[] bytes;
            try (InputStream in = url.openStream()) {
                bytes = in.readAllBytes();
            }
            String digest = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes), 0, 8);
            Path lib = Path.of(System.getProperty("java.io.tmpdir"), "fake-nvml-kit-" + digest, build, soname);
            if (!Files.isRegularFile(lib) || Files.size(lib) != bytes.length) {
                Files.createDirectories(lib.getParent());
                Path tmp = Files.createTempFile(lib.getParent(), "lib", ".tmp");
                Files.write(tmp, bytes);
                Files.move(tmp, lib, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            }
            return lib;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (URISyntaxException | NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
