package io.gpuagent.exporter;

import io.gpuagent.nvml.TemperatureThreshold;

/**
 * GPU temperature every read; the thresholds (static) through {@code nvmlDeviceGetTemperatureThreshold},
 * which answers absolute degrees (the T.Limit field ids 193-196 are relative on newer GPUs, so not used).
 * Memory temperature comes from the field batch ({@link FieldValuesReader}).
 */
final class ThermalReader implements GpuReader {
    @Override
    public void read(ReadContext ctx) {
        if (ctx.wants(Reading.GPU_TEMP_C)) {
            Integer t = ctx.call("nvmlDeviceGetTemperatureV", ctx.device::temperature, Reading.GPU_TEMP_C);
            if (t != null) {
                ctx.set(Reading.GPU_TEMP_C, t);
            }
        }
        threshold(ctx, Reading.SLOWDOWN_TEMP_C, TemperatureThreshold.SLOWDOWN);
        threshold(ctx, Reading.SHUTDOWN_TEMP_C, TemperatureThreshold.SHUTDOWN);
        threshold(ctx, Reading.GPU_MAX_OP_TEMP_C, TemperatureThreshold.GPU_MAX);
        threshold(ctx, Reading.MEM_MAX_OP_TEMP_C, TemperatureThreshold.MEM_MAX);
    }

    private static void threshold(ReadContext ctx, Reading r, TemperatureThreshold which) {
        if (ctx.wants(r)) {
            Integer t = ctx.call("nvmlDeviceGetTemperatureThreshold", () -> ctx.device.temperatureThreshold(which), r);
            if (t != null) {
                ctx.set(r, t);
            }
        }
    }
}
