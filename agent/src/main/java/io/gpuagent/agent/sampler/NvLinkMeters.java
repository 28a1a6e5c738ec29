package io.gpuagent.agent.sampler;

import io.gpuagent.agent.AgentRegistry;
import io.gpuagent.agent.GpuGauges;
import io.gpuagent.exporter.GpuSample;
import io.gpuagent.exporter.Reading;
import io.quarkus.runtime.Startup;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * {@code gpu_agent_nvlink_links_active{gpu,UUID}}: NVLink links up on the GPU, read every sweep. dcgm-exporter
 * has no link-state series, and an alert on a link that went down needs one: compare with the recent maximum.
 * GPUs without NVLink (the driver does not report links) get no series.
 */
@Startup
@ApplicationScoped
public class NvLinkMeters {

    static final String LINKS_ACTIVE = "gpu_agent.nvlink.links.active";

    public NvLinkMeters(SamplerService sampler, AgentRegistry agentRegistry) {
        sampler.onSnapshot(new GpuGauges(agentRegistry.registry(), LINKS_ACTIVE,
                "NVLink links up on this GPU (nvmlDeviceGetNvLinkState); fewer than before means a link went down.",
                g -> g.has(Reading.NVLINK_LINKS),
                (index, uuid) -> {
                    GpuSample g = sampler.latest().sample(index, uuid);
                    return g == null ? Double.NaN : g.raw(Reading.NVLINK_LINKS);
                }));
    }
}
