package io.gpuagent.nvml.fake;

import io.gpuagent.nvml.Nvml;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The fake NVML opened once for a test class and back on its defaults before each test:
 * {@code @RegisterExtension static final OpenFakeNvml FAKE = new OpenFakeNvml();} then {@code FAKE.nvml()}.
 * Closed (on the defaults again) after the class.
 */
public final class OpenFakeNvml implements BeforeEachCallback, AfterAllCallback {
    private Nvml nvml;

    /** Opened on first use, on the default scenario. */
    public synchronized Nvml nvml() {
        if (nvml == null) {
            FakeNvml.write(Scenario.defaults());
            nvml = FakeNvml.open();
        }
        return nvml;
    }

    /** For a test that closed {@link #nvml()} on purpose: opens the fake again. */
    public synchronized Nvml reopen() {
        nvml = FakeNvml.open();
        return nvml;
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        nvml();
        FakeNvml.reset();
    }

    @Override
    public synchronized void afterAll(ExtensionContext context) {
        if (nvml != null) {
            FakeNvml.reset();
            nvml.close();
            nvml = null;
        }
    }
}
