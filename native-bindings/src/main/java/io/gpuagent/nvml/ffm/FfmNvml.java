package io.gpuagent.nvml.ffm;

import io.gpuagent.nvml.Nvml;

/** Placeholder until the FFM implementation lands (replaced in the bindings commit). */
public final class FfmNvml {
    private FfmNvml() {
    }

    public static Nvml open(String library) {
        throw new UnsupportedOperationException("FFM bindings not written yet");
    }
}
