package io.gpuagent.agent;

import java.nio.file.Path;

/**
 * The process-level ITs' name for the test kit's {@link io.gpuagent.nvml.fake.Promtool}; every other test
 * uses the kit directly. Goes when the ITs move to the kit.
 */
public final class Promtool {
    private Promtool() {
    }

    public static Path require(String tool) {
        return io.gpuagent.nvml.fake.Promtool.require(tool);
    }
}
