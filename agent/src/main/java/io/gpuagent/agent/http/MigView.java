package io.gpuagent.agent.http;

import io.gpuagent.agent.health.MigHealth;
import io.gpuagent.agent.health.Reason;
import io.gpuagent.agent.health.detect.HealthState;
import io.gpuagent.agent.kubelet.PodMap;
import io.gpuagent.exporter.MigInstance;
import io.gpuagent.exporter.MigSample;
import io.gpuagent.exporter.Reading;
import io.gpuagent.nvml.ProcessInfo;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One MIG device in {@code /v1/gpus} (under its GPU's {@code migDevices}) and {@code /v1/gpus/{id}} (by address
 * or {@code MIG-} UUID): identity, health, and its partitioned readings (its GPU's status and read time apply).
 *
 * @param health    the worse of its own and its GPU's state; INITIALIZING until first judged
 * @param reasons   its own reasons, worst first
 * @param inherited its GPU's reasons, worst first
 * @param pods      the containers the kubelet says hold it ({@link PodView}; empty without pod attribution)
 * @param allocatable whether the kubelet offers it for allocation; null when not known
 */
public record MigView(String uuid, String address, int gpu, String parentUuid, int gpuInstanceId,
                      int computeInstanceId, String profile, int profileId, int slices, int placementStart,
                      int multiprocessors, long memoryMib, HealthState health, List<Reason> reasons,
                      List<Reason> inherited, Map<String, Double> readings, List<ProcessInfo> processes,
                      List<PodView> pods, Boolean allocatable) {

    static MigView of(MigSample mig, MigHealth health) {
        return of(mig, health, PodMap.EMPTY);
    }

    static MigView of(MigSample mig, MigHealth health, PodMap pods) {
        Map<String, Double> readings = new LinkedHashMap<>();
        for (Reading r : Reading.values()) {
            if (mig.has(r)) {
                readings.put(r.name().toLowerCase(Locale.ROOT), mig.raw(r));
            }
        }
        MigInstance i = mig.info();
        return new MigView(i.uuid(), i.address(), i.gpuIndex(), i.parentUuid(), i.gpuInstanceId(),
                i.computeInstanceId(), i.profile(), i.profileId(), i.slices(), i.placementStart(), i.multiprocessors(),
                i.memoryMib(), health == null ? HealthState.INITIALIZING : health.state(),
                health == null ? List.of() : health.reasons(), health == null ? List.of() : health.inherited(),
                readings, mig.processes(), PodView.of(pods, i.uuid()), pods.allocatable(i.uuid()).orElse(null));
    }
}
