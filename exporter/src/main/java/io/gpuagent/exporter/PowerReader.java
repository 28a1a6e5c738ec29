package io.gpuagent.exporter;

import java.util.function.Supplier;

/**
 * Power draw ({@code nvmlDeviceGetPowerUsage}, mW to W) and the enforced limit. Energy, instant power and
 * the configured limits come from the field batch ({@link FieldValuesReader}); where the driver does not
 * serve the limit fields (189/190), the limits come from {@code nvmlDeviceGetPowerManagementLimit} and
 * {@code ...DefaultLimit} instead.
 */
final class PowerReader implements GpuReader {
    @Override
    public void read(ReadContext ctx) {
        if (ctx.state.reads >= ctx.state.powerLimitCallRetryAt) {
            boolean refused = fallback(ctx, Reading.POWER_LIMIT_W, "nvmlDeviceGetPowerManagementLimit",
                    ctx.device::powerLimitMw);
            refused |= fallback(ctx, Reading.POWER_DEFAULT_LIMIT_W, "nvmlDeviceGetPowerManagementDefaultLimit",
                    ctx.device::powerDefaultLimitMw);
            if (refused) {
                ctx.state.powerLimitCallRetryAt = ctx.state.reads + ctx.settings.notSupportedRetry();
            }
        }
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

    /** Reads {@code r} by call when the field batch could not (the field is backed off); true on NOT_SUPPORTED. */
    private static boolean fallback(ReadContext ctx, Reading r, String function, Supplier<Long> call) {
        boolean fieldRefused = ctx.state.retryAt[r.ordinal()] > ctx.state.reads;
        if (!ctx.requested(r) || !fieldRefused || !Double.isNaN(ctx.get(r))) {
            return false;
        }
        Long mw = ctx.call(function, call);
        if (mw != null) {
            ctx.set(r, mw / 1000.0);
            return false;
        }
        return ctx.lastNotSupported;
    }
}
