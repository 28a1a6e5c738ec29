package io.gpuagent.exporter;

import io.gpuagent.nvml.FabricInfo;

/**
 * The GPU's NVLink fabric, one call a read ({@link io.gpuagent.nvml.GpuDevice#fabricInfo()}). A GPU outside an
 * NVSwitch fabric answers NOT_SUPPORTED (or state 0): the readings stay absent and the call backs off like any
 * unsupported one. The health mask and summary are absent where the driver's struct has none.
 */
final class FabricReader implements GpuReader {

    @Override
    public void read(ReadContext ctx) {
        if (!ctx.wants(Reading.FABRIC_STATE)) {
            return;
        }
        FabricInfo f = ctx.call("nvmlDeviceGetGpuFabricInfoV", ctx.device::fabricInfo, Reading.FABRIC_STATE,
                Reading.FABRIC_STATUS, Reading.FABRIC_HEALTH_MASK, Reading.FABRIC_HEALTH_SUMMARY);
        if (f == null) {
            return;
        }
        if (f.state() == FabricInfo.NOT_SUPPORTED) {
            ctx.unsupported(Reading.FABRIC_STATE);
            return;
        }
        ctx.set(Reading.FABRIC_STATE, f.state());
        ctx.set(Reading.FABRIC_STATUS, f.status());
        if (f.healthMask() >= 0) {
            ctx.set(Reading.FABRIC_HEALTH_MASK, f.healthMask());
        }
        if (f.healthSummary() >= 0) {
            ctx.set(Reading.FABRIC_HEALTH_SUMMARY, f.healthSummary());
        }
    }
}
