package io.gpuagent.nvml;

/** An allocated {@code nvmlGpmSample_t}; {@link #close()} frees it. */
public interface GpmSample extends AutoCloseable {
    GpuDevice device();

    @Override
    void close();
}
