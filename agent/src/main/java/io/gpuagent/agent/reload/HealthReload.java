package io.gpuagent.agent.reload;

import io.gpuagent.agent.health.HealthConfig;
import io.gpuagent.agent.health.HealthModel;
import io.gpuagent.agent.health.NodeSweep;
import io.smallrye.config.SmallRyeConfig;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The health policy: every {@code gpu-agent.health.*} threshold, XID class and XID scope, the node checks'
 * thresholds and the expected topology; where and how often the node checks read takes a restart.
 */
@ApplicationScoped
public class HealthReload implements Reloadable {

    static final String PREFIX = "gpu-agent.health.";

    private final HealthModel health;
    private final NodeSweep nodes;

    public HealthReload(HealthModel health, NodeSweep nodes) {
        this.health = health;
        this.nodes = nodes;
    }

    @Override
    public List<String> restartOnly() {
        return List.of(PREFIX + "node.enabled", PREFIX + "node.interval", PREFIX + "node.deadline", PREFIX + "node.root");
    }

    @Override
    public List<String> keys() {
        return List.of(PREFIX);
    }

    @Override
    public Optional<Staged> prepare(SmallRyeConfig next, Set<String> changedKeys) {
        Set<String> mine = taken(changedKeys);
        if (mine.isEmpty()) {
            return Optional.empty();
        }
        HealthConfig config = next.getConfigMapping(HealthConfig.class);
        Runnable model = health.prepare(config);
        Runnable topology = nodes.prepare(config);
        return Optional.of(new Staged("health policy: " + String.join(", ", mine), () -> {
            model.run();
            topology.run();
        }));
    }
}
