package io.gpuagent.exporter;

/**
 * One group of readings (one file each: {@link ClockReader}, {@link ThermalReader}, ...). A reader asks
 * {@link ReadContext#wants} before each call, calls NVML only through {@link ReadContext#call}, and stores
 * values with {@link ReadContext#set}. Readers are stateless; per-GPU memory lives in {@link GpuState}.
 */
interface GpuReader {
    void read(ReadContext ctx);
}
