package io.gpuagent.agent;

import io.gpuagent.nvml.fake.FakeNvml;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The process-level ITs' names for the test kit ({@link FakeNvml}); every other test uses the kit directly.
 * Goes when the ITs move to the kit's packaged-agent fixture.
 */
public final class Scenario {
    public static final Path FAKE_LIBRARY = FakeNvml.LIBRARY;

    private Scenario() {
    }

    public static void write(String text) {
        FakeNvml.write(text);
    }

    public static void eventually(Duration timeout, Runnable assertion) {
        FakeNvml.eventually(timeout, assertion);
    }
}
