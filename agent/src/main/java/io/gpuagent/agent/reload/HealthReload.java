package io.gpuagent.agent.reload;

import io.gpuagent.agent.health.HealthConfig;
import io.gpuagent.agent.health.HealthModel;
import io.smallrye.config.SmallRyeConfig;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/** The health policy: every {@code gpu-agent.health.*} threshold, XID class and XID scope. */
@ApplicationScoped
public class HealthReload implements Reloadable {

    static final String PREFIX = "gpu-agent.health.";

    private final HealthModel health;

    public HealthReload(HealthModel health) {
        this.health = health;
    }

    @Override
    public List<String> keys() {
        return List.of(PREFIX);
    }

    @Override
    public Optional<Staged> prepare(SmallRyeConfig next, Set<String> changedKeys) {
        Set<String> mine = new TreeSet<>();
        changedKeys.stream().filter(k -> k.startsWith(PREFIX)).forEach(mine::add);
        if (mine.isEmpty()) {
            return Optional.empty();
        }
        Runnable apply = health.prepare(next.getConfigMapping(HealthConfig.class));
        return Optional.of(new Staged("health policy: " + String.join(", ", mine), apply));
    }
}
