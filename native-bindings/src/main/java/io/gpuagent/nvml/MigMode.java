package io.gpuagent.nvml;

public record MigMode(boolean current, boolean pending) {
}
