package io.gpuagent.exporter;

/**
 * Power draw ({@code nvmlDeviceGetPowerUsage}, mW to W) and the enforced limit. Energy, instant power and
 * the configured limits come from the field batch ({@link FieldValuesReader}).
 */
final class PowerReader implements GpuReader {
    @Override
    public void read(ReadContext ctx) {
        if (ctx.wants(Reading.POWER_USAGE_W)) {
            Long mw = ctx.call("nvmlDeviceGetPowerUsage", ctx.device::powerUsageMw, Reading.POWER_USAGE_W);
            if (mw != null) {
                ctx.set(Reading.POWER_USAGE_W, mw / 1000.0);
            }
        }
        if (ctx.wants(Reading.ENFORCED_POWER_LIMIT_W)) {
            Long mw = ctx.call("nvmlDeviceGetEnforcedPowerLimit", ctx.device::enforcedPowerLimitMw,
                    Reading.ENFORCED_POWER_LIMIT_W);
            if (mw != null) {
                ctx.set(Reading.ENFORCED_POWER_LIMIT_W, mw / 1000.0);
            }
        }
    }
}
