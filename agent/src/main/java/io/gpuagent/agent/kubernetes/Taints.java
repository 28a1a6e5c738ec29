package io.gpuagent.agent.kubernetes;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Taint;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The agent's taint on its node, and how to change it without touching anyone else's. Kubernetes tells taints
 * apart by key and effect, so the agent's is {@link #KEY} with the configured effect; a taint with the same key
 * and another effect is someone else's and is never changed. Whether the agent put the taint there is recorded in
 * the annotation {@link #OWNED} (the effect it set), written in the same patch: a {@link #KEY} taint with the
 * agent's effect but without the annotation was put there by a person or another tool, and the agent neither
 * changes its value nor removes it.
 */
final class Taints {

    static final String KEY = "gpu-agent.io/unhealthy";
    static final String OWNED = "gpu-agent.io/taint";
    static final Set<String> EFFECTS = Set.of("NoSchedule", "PreferNoSchedule", "NoExecute");

    private Taints() {
    }

    /**
     * The patch that makes the node carry the agent's taint with value {@code want} (or none of the agent's when
     * empty), conditional on the node's resourceVersion (the whole taint list is written, so a concurrent change
     * fails and is read again); empty when the node already says so.
     */
    static Optional<JsonPatch> patch(Node node, String effect, Optional<String> want) {
        List<Taint> taints = node.getSpec() == null || node.getSpec().getTaints() == null ? List.of()
                : node.getSpec().getTaints();
        Map<String, String> annotations = node.getMetadata().getAnnotations();
        Optional<Taint> ours = taints.stream().filter(t -> KEY.equals(t.getKey()) && effect.equals(t.getEffect())).findFirst();
        boolean owned = annotations != null && effect.equals(annotations.get(OWNED));
        List<Taint> next = new ArrayList<>(taints);
        JsonPatch patch = JsonPatch.of(node.getMetadata());
        if (want.isPresent()) {
            if (ours.isPresent() && (!owned || want.get().equals(ours.get().getValue()))) {
                return Optional.empty();   // someone else's keeps pods off already, or ours says it
            }
            ours.ifPresent(next::remove);
            next.add(new Taint(effect, KEY, null, want.get()));
            patch.annotate(annotations, OWNED, effect);
        } else {
            if (!owned) {
                return Optional.empty();   // none of ours; a foreign one stays
            }
            ours.ifPresent(next::remove);
            patch.unannotate(annotations, OWNED);
        }
        return Optional.of(patch.set("/spec/taints", next));
    }
}
