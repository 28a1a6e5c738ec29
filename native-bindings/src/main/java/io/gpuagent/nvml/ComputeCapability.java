package io.gpuagent.nvml;

public record ComputeCapability(int major, int minor) {
    @Override
    public String toString() {
        return major + "." + minor;
    }
}
