package io.gpuagent.agent.http;

import io.gpuagent.agent.health.GpuHealth;
import io.gpuagent.agent.health.detect.HealthState;
import io.gpuagent.agent.kubelet.PodMap;
import io.gpuagent.exporter.GpuSample;
import io.gpuagent.exporter.GpuStatus;
import io.gpuagent.exporter.NvLinkInfo;
import io.gpuagent.exporter.Reading;
import io.gpuagent.nvml.ProcessInfo;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One GPU in {@code /v1/gpus}: identity, health, and every reading the latest snapshot holds ({@code mig_mode},
 * {@code mig_mode_pending} among them where the GPU has MIG). A GPU in MIG mode lists its MIG devices
 * ({@code migDevices}, GPU instance then compute instance order; empty otherwise). {@code pods}: the containers
 * the kubelet says hold it ({@link PodView}; empty without pod attribution). {@code allocatable}: whether the
 * kubelet offers it for allocation (null when not known: no pod attribution, or a kubelet without the call).
 */
public record GpuView(int index, String uuid, String name, String pciBusId, String device, String serial,
                      String vbiosVersion, GpuStatus status, String statusReason, Instant readAt, double ageSeconds,
                      HealthState health, Map<String, Double> readings, List<NvLinkInfo> nvLinks,
                      List<ProcessInfo> processes, List<String> notes, List<MigView> migDevices,
                      List<PodView> pods, Boolean allocatable) {

    static GpuView of(GpuSample gpu, GpuHealth health, Instant now) {
        return of(gpu, health, now, PodMap.EMPTY);
    }

    static GpuView of(GpuSample gpu, GpuHealth health, Instant now, PodMap pods) {
        Map<String, Double> readings = new LinkedHashMap<>();
        for (Reading r : Reading.values()) {
            if (gpu.has(r)) {
                readings.put(r.name().toLowerCase(Locale.ROOT), gpu.raw(r));
            }
        }
        double age = Math.max(0, Duration.between(gpu.readAt(), now).toNanos() / 1e9);
        return new GpuView(gpu.index(), gpu.uuid(), gpu.info().name(), gpu.info().pciBusId(), gpu.info().deviceName(),
                gpu.info().serial(), gpu.info().vbiosVersion(), gpu.status(), gpu.statusReason(), gpu.readAt(), age,
                health == null ? HealthState.INITIALIZING : health.state(), readings, gpu.nvLinks(), gpu.processes(),
                gpu.notes(), gpu.migDevices().stream()
                        .map(m -> MigView.of(m, health == null ? null : health.migDevice(m.uuid()), pods)).toList(),
                PodView.of(pods, gpu.uuid()), pods.allocatable(gpu.uuid()).orElse(null));
    }
}
