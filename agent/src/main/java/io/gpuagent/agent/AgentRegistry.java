package io.gpuagent.agent;

import io.gpuagent.exporter.AgentMetricsWriter;
import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import jakarta.inject.Singleton;

/**
 * The agent's own meter registry: every {@code gpu_agent_*} series that is not a GPU reading (the sampler's
 * NVML errors, health, journals, recovery, leases, the coordinator). {@code /metrics} serves it after the GPU
 * family.
 *
 * <p>A holder rather than a {@code MeterRegistry} bean on purpose: Quarkus adds every {@code MeterRegistry}
 * bean to its global composite, which would bind its JVM and HTTP meters here and publish these series on
 * Quarkus' own registry as well.
 */
@Singleton
public class AgentRegistry {

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final AgentMetricsWriter writer = new AgentMetricsWriter(registry);

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    /** Writes this registry's text for {@code /metrics} without the registry's per-scrape objects. */
    public AgentMetricsWriter writer() {
        return writer;
    }
}
