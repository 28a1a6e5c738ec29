package io.gpuagent.agent.http;

import io.gpuagent.agent.kubelet.PodMap;
import io.gpuagent.agent.kubelet.PodRef;
import java.util.List;

/**
 * A container the kubelet says holds a GPU or MIG device, in {@code /v1/gpus} ({@code pods} of a GPU or MIG
 * device view): from the last good kubelet answer, empty without pod attribution.
 */
public record PodView(String namespace, String pod, String container) {

    /** The most containers listed per device: time-slicing can put many on one GPU; the view stays small. */
    static final int MAX_PER_DEVICE = 32;

    static List<PodView> of(PodMap pods, String uuid) {
        return pods.pods(uuid).stream().limit(MAX_PER_DEVICE).map(PodView::of).toList();
    }

    private static PodView of(PodRef ref) {
        return new PodView(ref.namespace(), ref.pod(), ref.container());
    }
}
