package io.gpuagent.exporter;

import io.gpuagent.nvml.ProcessInfo;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Compute and graphics processes (each PID once, compute first), for placement and the recovery engine's
 * "terminate processes". A ms-class call on real hardware; it runs on the GPU's own worker.
 */
final class ProcessReader implements GpuReader {
    @Override
    public void read(ReadContext ctx) {
        if (!ctx.wants(Reading.PROCESSES)) {
            return;
        }
        List<ProcessInfo> compute = ctx.call("nvmlDeviceGetComputeRunningProcesses_v3", ctx.device::computeProcesses,
                Reading.PROCESSES);
        if (compute == null) {
            return;
        }
        List<ProcessInfo> graphics = ctx.call("nvmlDeviceGetGraphicsRunningProcesses_v3", ctx.device::graphicsProcesses);
        Map<Integer, ProcessInfo> byPid = new LinkedHashMap<>();
        for (ProcessInfo p : compute) {
            byPid.putIfAbsent(p.pid(), p);
        }
        if (graphics != null) {
            for (ProcessInfo p : graphics) {
                byPid.putIfAbsent(p.pid(), p);
            }
        }
        ctx.processes = List.copyOf(new ArrayList<>(byPid.values()));
        ctx.set(Reading.PROCESSES, ctx.processes.size());
    }
}
