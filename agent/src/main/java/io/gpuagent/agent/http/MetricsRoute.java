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
 * that are already rendered, so it never waits for NVML and needs no worker thread.
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
