package io.gpuagent.agent.http;

import io.gpuagent.agent.AgentRegistry;
import io.gpuagent.agent.sampler.SamplerService;
import io.gpuagent.exporter.TextBytes;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

/**
 * {@code GET /metrics}: the GPU family (dcgm-exporter names, rendered once per snapshot) followed by the
 * agent's own {@code gpu_agent_*} series. A plain Vert.x route on the event loop: a scrape never waits for
 * NVML and needs no worker thread.
 *
 * <p>Built to allocate little, because allocation is what set the scrape's tail (a young collection every
 * hundred scrapes or so, BENCHMARKS.md): the GPU family goes out as one Vert.x buffer made once per rendered
 * snapshot and written to every scrape (Vert.x's own heap buffers need no release, so one can be written
 * many times); the {@code gpu_agent_*} part is written at every request (a cordon or a lease shows in the
 * next scrape, not a sweep later) by {@link io.gpuagent.exporter.AgentMetricsWriter} into a text buffer kept
 * per event-loop thread, then copied once into the response.
 */
@ApplicationScoped
public class MetricsRoute {

    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final SamplerService sampler;
    private final AgentRegistry agentRegistry;
    private final ThreadLocal<TextBytes> text = ThreadLocal.withInitial(() -> new TextBytes(32 * 1024));
    private volatile Rendered gpus = new Rendered(new byte[0], Buffer.buffer());

    private record Rendered(byte[] bytes, Buffer buffer) {
    }

    public MetricsRoute(SamplerService sampler, AgentRegistry agentRegistry) {
        this.sampler = sampler;
        this.agentRegistry = agentRegistry;
    }

    void register(@Observes Router router) {
        router.get("/metrics").handler(this::scrape);
    }

    private void scrape(RoutingContext rc) {
        Buffer family = gpuFamily();
        TextBytes own = text.get();
        own.reset();
        agentRegistry.writer().write(own);
        HttpServerResponse response = rc.response();
        response.putHeader(HttpHeaders.CONTENT_TYPE, CONTENT_TYPE)
                .putHeader(HttpHeaders.CONTENT_LENGTH, Integer.toString(family.length() + own.length()));
        response.write(family);
        response.end(Buffer.buffer(own.length()).appendBytes(own.array(), 0, own.length()));
    }

    private Buffer gpuFamily() {
        byte[] bytes = sampler.writer().render(sampler.latest());
        Rendered r = gpus;
        if (r.bytes != bytes) {
            r = new Rendered(bytes, Buffer.buffer(bytes));
            gpus = r;
        }
        return r.buffer;
    }
}
