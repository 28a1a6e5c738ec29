package io.gpuagent.agent.reload;

import io.gpuagent.agent.recovery.RecoveryConfig;
import io.gpuagent.agent.recovery.RecoveryEngine;
import io.smallrye.config.SmallRyeConfig;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The recovery policy rows, {@code gpu-agent.recovery.policy.*}: which steps each fault gets. The mode (observe or
 * enforce) and the rails (limits, commands, the privileged socket) are not reloaded: enforce mode is checked
 * against the process's privileges once, at start.
 */
@ApplicationScoped
public class RecoveryReload implements Reloadable {

    static final String PREFIX = "gpu-agent.recovery.policy.";

    private final RecoveryEngine recovery;

    public RecoveryReload(RecoveryEngine recovery) {
        this.recovery = recovery;
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
        Runnable apply = recovery.preparePolicy(next.getConfigMapping(RecoveryConfig.class));
        return Optional.of(new Staged("recovery policy: " + String.join(", ", mine), apply));
    }
}
