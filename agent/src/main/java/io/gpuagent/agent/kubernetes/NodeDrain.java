package io.gpuagent.agent.kubernetes;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.gpuagent.agent.kubelet.PodMap;
import io.gpuagent.agent.kubelet.PodRef;
import io.gpuagent.agent.sampler.PodAttribution;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The Kubernetes side of recovery's drain (docs/kubernetes.md#health-in-the-node): cordons the node
 * ({@code spec.unschedulable}) and evicts, through the Eviction API so PodDisruptionBudgets are respected, exactly
 * the pods the kubelet says hold the bad GPU or one of its MIG devices ({@link PodAttribution}); no other pod is
 * touched. An eviction a PodDisruptionBudget refuses (429) is tried again with a growing pause until the drain's
 * deadline. The node is uncordoned only if the agent cordoned it: the annotation {@link #CORDONED} records that,
 * so a node an administrator cordoned stays cordoned, also across agent restarts.
 */
@ApplicationScoped
public class NodeDrain {

    static final String CORDONED = "gpu-agent.io/cordoned";
    private static final long FIRST_PAUSE_MILLIS = 500;
    private static final long MAX_PAUSE_MILLIS = 5000;

    /** What a drain did, in one line for the audit log; {@code ok} when every pod is evicted or gone. */
    public record Outcome(boolean ok, String detail) {
    }

    private final ApiServer api;
    private final PodAttribution pods;

    public NodeDrain(ApiServer api, PodAttribution pods) {
        this.api = api;
        this.pods = pods;
    }

    public boolean enabled() {
        return api.enabled();
    }

    /** Queues a Kubernetes Event about the node (a recovery action); never blocks. */
    public void recordEvent(boolean warning, String reason, String message) {
        api.recordEvent(warning, reason, message);
    }

    /** The pods holding any of {@code devices} (GPU and MIG UUIDs), each once, in the kubelet's order. */
    public List<PodRef> holders(Set<String> devices) {
        PodMap map = pods.current();
        Map<String, PodRef> byPod = new LinkedHashMap<>();
        for (String d : devices) {
            for (PodRef p : map.pods(d)) {
                byPod.putIfAbsent(p.namespace() + "/" + p.pod() + "/" + p.uid(), p);
            }
        }
        return List.copyOf(byPod.values());
    }

    /** What a drain would do, for observe mode's audit line. */
    public String preview(Set<String> devices) {
        List<PodRef> holders = holders(devices);
        return "would cordon node " + api.nodeName() + " and evict " + (holders.isEmpty() ? "no pod (the kubelet names "
                + "none holding the GPU)" : names(holders));
    }

    /** Cordons the node unless it is already unschedulable; says what it found. */
    public String cordon(String reason) throws Exception {
        for (int attempt = 1; ; attempt++) {
            Node node = api.node();
            if (Boolean.TRUE.equals(node.getSpec().getUnschedulable())) {
                return "node " + api.nodeName() + " already cordoned" + (ours(node) ? " by the agent" : " by someone "
                        + "else (the agent will not uncordon it)");
            }
            JsonPatch patch = JsonPatch.of(node.getMetadata())
                    .annotate(node.getMetadata().getAnnotations(), CORDONED,
                            Text.bounded(reason == null ? "gpu recovery" : reason, 256))
                    .set("/spec/unschedulable", true);
            try {
                api.patchNode(ApiServer.Kind.CORDON, patch);
                return "node " + api.nodeName() + " cordoned";
            } catch (KubernetesClientException e) {
                if (!ApiServer.conflict(e) || attempt >= 5) {
                    throw e;
                }
            }
        }
    }

    /** Uncordons the node if the agent cordoned it; says what it did. */
    public String uncordon() throws Exception {
        for (int attempt = 1; ; attempt++) {
            Node node = api.node();
            if (!ours(node)) {
                return "node " + api.nodeName() + " not cordoned by the agent: left as it is";
            }
            JsonPatch patch = JsonPatch.of(node.getMetadata()).unannotate(node.getMetadata().getAnnotations(), CORDONED)
                    .set("/spec/unschedulable", false);
            try {
                api.patchNode(ApiServer.Kind.CORDON, patch);
                return "node " + api.nodeName() + " uncordoned";
            } catch (KubernetesClientException e) {
                if (!ApiServer.conflict(e) || attempt >= 5) {
                    throw e;
                }
            }
        }
    }

    private static boolean ours(Node node) {
        return node.getMetadata().getAnnotations() != null && node.getMetadata().getAnnotations().containsKey(CORDONED);
    }

    /**
     * Evicts the pods holding {@code devices} until each is evicted or gone, or {@code deadlineNanos}
     * ({@link System#nanoTime()}) passes; an interrupt (the action timeout, the agent stopping) ends it early.
     */
    public Outcome evict(Set<String> devices, long deadlineNanos) throws InterruptedException {
        List<PodRef> pending = new ArrayList<>(holders(devices));
        if (pending.isEmpty()) {
            return new Outcome(true, "no pod holds the GPU (kubelet's last answer)");
        }
        Set<String> evicted = new LinkedHashSet<>();
        Set<String> gone = new LinkedHashSet<>();
        Map<String, String> lastProblem = new LinkedHashMap<>();
        long pause = FIRST_PAUSE_MILLIS;
        while (true) {
            for (var it = pending.iterator(); it.hasNext(); ) {
                PodRef p = it.next();
                String name = p.namespace() + "/" + p.pod();
                try {
                    switch (api.evict(p)) {
                        case EVICTED -> {
                            evicted.add(name);
                            it.remove();
                        }
                        case GONE -> {
                            gone.add(name);
                            it.remove();
                        }
                        case BLOCKED -> lastProblem.put(name, "a PodDisruptionBudget allows no disruption (429)");
                    }
                } catch (Exception e) {
                    lastProblem.put(name, Text.bounded(String.valueOf(e.getMessage()), 160));
                }
            }
            long left = deadlineNanos - System.nanoTime();
            if (pending.isEmpty() || left <= 0) {
                break;
            }
            Thread.sleep(Math.min(pause, Math.max(1, left / 1_000_000)));
            pause = Math.min(pause * 2, MAX_PAUSE_MILLIS);
        }
        StringBuilder d = new StringBuilder();
        d.append("evicted ").append(evicted.isEmpty() ? "none" : String.join(", ", evicted));
        if (!gone.isEmpty()) {
            d.append("; already gone ").append(String.join(", ", gone));
        }
        if (!pending.isEmpty()) {
            d.append("; not evicted by the deadline: ");
            List<String> left = new ArrayList<>();
            for (PodRef p : pending) {
                String name = p.namespace() + "/" + p.pod();
                left.add(name + " (" + lastProblem.getOrDefault(name, "?") + ")");
            }
            d.append(String.join(", ", left));
        }
        return new Outcome(pending.isEmpty(), Text.bounded(d.toString(), Text.MESSAGE_MAX));
    }

    private static String names(List<PodRef> pods) {
        List<String> n = new ArrayList<>();
        pods.forEach(p -> n.add(p.namespace() + "/" + p.pod()));
        return String.join(", ", n);
    }
}
