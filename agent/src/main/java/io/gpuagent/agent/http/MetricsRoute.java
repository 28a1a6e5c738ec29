package io.gpuagent.agent.http;

import io.gpuagent.agent.AgentRegistry;
import io.gpuagent.agent.sampler.SamplerService;
import io.gpuagent.exporter.Snapshot;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

/**
 * {@code GET /metrics}: the GPU family (dcgm-exporter names, rendered once per snapshot) followed by the
 * agent's own {@code gpu_agent_*} series. A plain Vert.x route on the event loop: a scrape only copies bytes
 * that are already rendered, so it never waits for NVML and needs no worker thread. The {@code gpu_agent_*} part
 * is scraped from the registry at every request (a cordon or a lease shows in the next scrape, not a sweep
 * later). A per-event-loop text buffer and encoder for it halved the allocation per scrape but lowered
 * throughput and raised p99 in the same benchmark run, so it is not used (BENCHMARKS.md).
 */
@ApplicationScoped
public class MetricsRoute {

    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final SamplerService sampler;
    private final AgentRegistry agentRegistry;

    public MetricsRoute(SamplerService sampler, AgentRegistry agentRegistry) {
        this.sampler = sampler;
        this.agentRegistry = agentRegistry;
    }

    void register(@Observes Router router) {
        router.get("/metrics").handler(this::scrape);
    }

    private void scrape(RoutingContext rc) {
        Snapshot snapshot = sampler.latest();
        byte[] gpus = sampler.writer().render(snapshot);
        String own = agentRegistry.registry().scrape();
        Buffer body = Buffer.buffer(gpus.length + own.length() + 64).appendBytes(gpus).appendString(own);
        rc.response().putHeader("Content-Type", CONTENT_TYPE).end(body);
    }
}
