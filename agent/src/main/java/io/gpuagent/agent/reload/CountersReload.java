package io.gpuagent.agent.reload;

import io.gpuagent.agent.AgentConfig;
import io.gpuagent.agent.sampler.SamplerService;
import io.smallrye.config.SmallRyeConfig;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** The GPU metric set: {@code gpu-agent.counters-file} (read again even when its name did not change). */
@ApplicationScoped
public class CountersReload implements Reloadable {

    private final SamplerService sampler;

    public CountersReload(SamplerService sampler) {
        this.sampler = sampler;
    }

    @Override
    public List<String> keys() {
        return List.of("gpu-agent.counters-file", "gpu-agent.metrics.default-set");
    }

    @Override
    public Optional<Staged> prepare(SmallRyeConfig next, Set<String> changedKeys) {
        return sampler.prepare(next.getConfigMapping(AgentConfig.class)).map(set -> new Staged(
                "GPU metrics: " + set.writer().metrics().size() + " from " + set.source(), () -> sampler.use(set)));
    }
}
