package io.gpuagent.agent.recovery;

import io.gpuagent.agent.AgentRegistry;
import io.gpuagent.agent.GpuGauges;
import io.gpuagent.agent.lease.Cordons;
import io.gpuagent.agent.sampler.SamplerService;
import io.quarkus.runtime.Startup;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * {@code gpu_agent_gpu_cordoned{gpu,UUID}}: 1 while the GPU is out of placement (cordoned by an operator or by
 * recovery), 0 otherwise; every GPU the sampler sees has the series, so dashboards and alerts see a 0 before
 * the first cordon.
 */
@Startup
@ApplicationScoped
public class CordonMeters {

    static final String CORDONED = "gpu_agent.gpu.cordoned";

    public CordonMeters(SamplerService sampler, AgentRegistry agentRegistry, Cordons cordons) {
        sampler.onSnapshot(new GpuGauges(agentRegistry.registry(), CORDONED,
                "1 while the GPU is cordoned (out of placement: never leased), 0 otherwise.",
                g -> true, (index, uuid) -> cordons.isCordoned(uuid) ? 1 : 0));
    }
}
