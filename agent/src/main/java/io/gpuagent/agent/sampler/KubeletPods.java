package io.gpuagent.agent.sampler;

import io.gpuagent.agent.AgentRegistry;
import io.gpuagent.agent.kubelet.GrpcPodResources;
import io.gpuagent.agent.kubelet.KubeletConfig;
import io.gpuagent.agent.kubelet.PodMapping;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.Startup;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Clock;
import org.jboss.logging.Logger;

/**
 * Starts the pod attribution refresher ({@link PodRefresher}) when {@code gpu-agent.kubelet.enabled=true};
 * without it nothing talks to the kubelet and {@link PodAttribution} stays empty.
 */
@Startup
@ApplicationScoped
public class KubeletPods {

    private static final Logger LOG = Logger.getLogger(KubeletPods.class);

    private final PodRefresher refresher;

    public KubeletPods(KubeletConfig config, SamplerService sampler, PodAttribution attribution,
                       AgentRegistry registry) {
        if (!config.enabled()) {
            refresher = null;
            return;
        }
        PodMapping mapping = new PodMapping(config.resourceNames(), config.gpuIdType());
        GrpcPodResources kubelet = new GrpcPodResources(config.socket(), config.deadline(), config.maxAnswerBytes());
        refresher = new PodRefresher(kubelet, mapping, sampler::latest, attribution, registry.registry(),
                Clock.systemUTC(), config.refreshInterval());
        LOG.infof("pod attribution: asking the kubelet at %s every %s (deadline %s, answers up to %d bytes,"
                        + " resources %s, ids as %s)", config.socket(), config.refreshInterval(), config.deadline(),
                config.maxAnswerBytes(), config.resourceNames(), config.gpuIdType());
        refresher.start();
    }

    void stop(@Observes ShutdownEvent event) {
        if (refresher != null) {
            refresher.close();
        }
    }
}
