package io.gpuagent.agent.sampler;

import io.gpuagent.agent.kubelet.PodMap;
import io.gpuagent.agent.kubelet.PodRef;
import io.gpuagent.exporter.GpuDecorator;
import io.gpuagent.exporter.GpuInfo;
import io.gpuagent.exporter.MigInstance;
import jakarta.inject.Singleton;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code pod}, {@code namespace} and {@code container} on the GPU series of every GPU (and MIG device's GPU
 * instance) a container holds, from {@link PodAttribution}'s last good map: dcgm-exporter's label names with
 * {@code --kubernetes}. Reads only the published map, so a render never waits for the kubelet.
 *
 * <p>When several containers hold one device (time-slicing, or a pod's containers sharing it) the series carry
 * one of them, the last in the kubelet's order, as dcgm-exporter does without {@code --kubernetes-virtual-gpus};
 * {@code GET /v1/gpus/{id}} lists them all.
 */
@Singleton
public class PodLabels implements GpuDecorator {

    static final String POD = "pod";
    static final String NAMESPACE = "namespace";
    static final String CONTAINER = "container";

    private final PodAttribution attribution;
    private PodMap seen = PodMap.EMPTY;
    private long version;

    public PodLabels(PodAttribution attribution) {
        this.attribution = attribution;
    }

    @Override
    public synchronized long version() {
        PodMap now = attribution.current();
        if (now != seen) {
            if (!now.byDevice().equals(seen.byDevice())) {   // the labels come from byDevice alone
                version++;
            }
            seen = now;
        }
        return version;
    }

    @Override
    public Map<String, String> extraLabels(GpuInfo gpu) {
        return labels(gpu.uuid());
    }

    @Override
    public Map<String, String> extraLabels(GpuInfo gpu, MigInstance mig) {
        return labels(mig.uuid());
    }

    private Map<String, String> labels(String uuid) {
        List<PodRef> pods = attribution.current().pods(uuid);
        if (pods.isEmpty()) {
            return Map.of();
        }
        PodRef holder = pods.getLast();
        Map<String, String> labels = new LinkedHashMap<>(4);
        labels.put(POD, holder.pod());
        labels.put(NAMESPACE, holder.namespace());
        labels.put(CONTAINER, holder.container());
        return labels;
    }
}
