package io.gpuagent.exporter;

import io.gpuagent.nvml.EngineUtilization;
import io.gpuagent.nvml.Utilization;

/** {@code nvmlDeviceGetUtilizationRates} (GPU and memory copy), encoder and decoder utilization. */
final class UtilizationReader implements GpuReader {
    @Override
    public void read(ReadContext ctx) {
        if (ctx.wantsAny(Reading.GPU_UTIL_PCT, Reading.MEM_COPY_UTIL_PCT)) {
            Utilization u = ctx.call("nvmlDeviceGetUtilizationRates", ctx.device::utilizationRates,
                    Reading.GPU_UTIL_PCT, Reading.MEM_COPY_UTIL_PCT);
            if (u != null) {
                ctx.set(Reading.GPU_UTIL_PCT, u.gpu());
                ctx.set(Reading.MEM_COPY_UTIL_PCT, u.memory());
            }
        }
        if (ctx.wants(Reading.ENC_UTIL_PCT)) {
            EngineUtilization e = ctx.call("nvmlDeviceGetEncoderUtilization", ctx.device::encoderUtilization,
                    Reading.ENC_UTIL_PCT);
            if (e != null) {
                ctx.set(Reading.ENC_UTIL_PCT, e.percent());
            }
        }
        if (ctx.wants(Reading.DEC_UTIL_PCT)) {
            EngineUtilization d = ctx.call("nvmlDeviceGetDecoderUtilization", ctx.device::decoderUtilization,
                    Reading.DEC_UTIL_PCT);
            if (d != null) {
                ctx.set(Reading.DEC_UTIL_PCT, d.percent());
            }
        }
    }
}
