package io.gpuagent.nvml;

/** Power-limit range the board accepts, milliwatts. */
public record PowerConstraints(int minMw, int maxMw) {
}
