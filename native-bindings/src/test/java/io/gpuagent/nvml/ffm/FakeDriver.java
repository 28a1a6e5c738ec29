package io.gpuagent.nvml.ffm;

import static org.junit.jupiter.api.Assertions.fail;

import io.gpuagent.nvml.Nvml;
import io.gpuagent.nvml.NvmlException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * The fake NVML driver as the tests drive it: where the two builds are, and its scenario file (named by
 * {@code FAKE_NVML_SCENARIO}, set by surefire). Every scenario written here carries a marker in
 * {@code driver_version} (a generated one, or the one the scenario sets), so a test waits until the driver
 * has really re-read the file instead of sleeping.
 */
final class FakeDriver {
    static final String LIBRARY = Path.of(System.getProperty("fake.nvml.dir", "target/fake-nvml"), "libnvidia-ml.so.1")
            .toAbsolutePath().toString();
    static final String LIBRARY_535 = Path.of(System.getProperty("fake.nvml535.dir", "target/fake-nvml-535"),
            "libnvidia-ml.so.1").toAbsolutePath().toString();
    static final Path SCENARIO = Path.of(System.getenv().getOrDefault("FAKE_NVML_SCENARIO", "target/test-scenario.conf"));

    private static final AtomicInteger GENERATION = new AtomicInteger();
    /** The fake fires each {@code event.<n>} once per process, so numbers are never reused across tests. */
    private static final AtomicInteger EVENT_NUMBER = new AtomicInteger(1000);
    private static final long WAIT_NANOS = 10_000_000_000L;

    private FakeDriver() {
    }

    /** Replaces the scenario with {@code lines} and returns once {@code nvml} reads the new file. */
    static void scenario(Nvml nvml, String... lines) {
        String marker = write(lines);
        await(() -> marker.equals(nvml.driverVersion()), "the fake to re-read " + SCENARIO + " (marker " + marker + ")");
    }

    /** The default machine: 8 idle H100s. */
    static void reset(Nvml nvml) {
        scenario(nvml);
    }

    /** Writes the scenario atomically (temp file + rename) without waiting; returns its marker. */
    static String write(String... lines) {
        List<String> all = new ArrayList<>(List.of(lines));
        String marker = all.stream().filter(l -> l.startsWith("driver_version")).map(l -> l.substring(l.indexOf('=') + 1).trim())
                .findFirst().orElse(null);
        if (marker == null) {
            marker = "scenario-" + ProcessHandle.current().pid() + "-" + GENERATION.incrementAndGet();
            all.add("driver_version = " + marker);
        }
        try {
            Files.createDirectories(SCENARIO.toAbsolutePath().getParent());
            Path temp = Files.createTempFile(SCENARIO.toAbsolutePath().getParent(), "scenario", ".tmp");
            Files.write(temp, all);
            Files.move(temp, SCENARIO, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return marker;
    }

    static int nextEvent() {
        return EVENT_NUMBER.incrementAndGet();
    }

    static Nvml open() {
        return Nvml.open(LIBRARY);
    }

    /** Opens the fake once the scenario just written (e.g. clearing {@code init_error}) lets init succeed. */
    static Nvml openWhenReady(String library) {
        Nvml[] opened = new Nvml[1];
        await(() -> {
            try {
                opened[0] = Nvml.open(library);
                return true;
            } catch (NvmlException e) {
                return false;
            }
        }, "nvmlInit_v2 to succeed on " + library);
        return opened[0];
    }

    static void await(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + WAIT_NANOS;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting for " + what);
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                fail("interrupted waiting for " + what);
            }
        }
    }
}
