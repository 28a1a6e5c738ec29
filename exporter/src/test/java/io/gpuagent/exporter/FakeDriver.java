package io.gpuagent.exporter;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.nvml.Nvml;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The C fake NVML driver (native-bindings' {@code target/fake-nvml/libnvidia-ml.so.1}), loaded through the
 * real FFM bindings once per test JVM, and its scenario file ({@code FAKE_NVML_SCENARIO}, set by surefire).
 */
final class FakeDriver {
    static final Path SCENARIO = Path.of(System.getProperty("test.scenario", "target/test-scenario.conf"));
    private static Nvml nvml;

    private FakeDriver() {
    }

    /** NVML over the fake driver; opened on first use after writing {@code scenario}. */
    static synchronized Nvml nvml() {
        if (nvml == null) {
            String lib = System.getProperty("fake.nvml.library", "");
            assertTrue(!lib.isEmpty() && Files.isRegularFile(Path.of(lib)),
                    "fake NVML driver not built at '" + lib + "': run ./mvnw -pl exporter -am verify");
            if (!Files.exists(SCENARIO)) {
                scenario("");
            }
            nvml = Nvml.open(lib);
        }
        return nvml;
    }

    /**
     * Replaces the scenario atomically (write a temporary file, move it over) and waits until the fake has
     * had time to see it (it checks every 10 ms).
     */
    static void scenario(String text) {
        try {
            Files.createDirectories(SCENARIO.toAbsolutePath().getParent());
            Path tmp = Files.createTempFile(SCENARIO.toAbsolutePath().getParent(), "scenario", ".tmp");
            Files.writeString(tmp, text);
            Files.move(tmp, SCENARIO, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            Thread.sleep(300);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
