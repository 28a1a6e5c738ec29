package io.gpuagent.nvml;

public record EccMode(boolean current, boolean pending) {
}
