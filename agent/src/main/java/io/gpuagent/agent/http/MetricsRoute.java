package io.gpuagent.agent.http;

import io.gpuagent.agent.SamplerService;
import io.netty.buffer.Unpooled;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.nio.charset.StandardCharsets;

/**
 * {@code GET /metrics}: the GPU family (dcgm-exporter names, rendered once per snapshot) followed by the
 * agent's own {@code gpu_agent_*} series. A plain Vert.x route on the event loop: a scrape only copies bytes
 * that are already rendered, so it never waits for NVML and needs no worker thread.
 *
 * <p>The two parts are wrapped, not copied, into the response: the GPU family is the writer's cached array
 * for the snapshot (57 KB at 8 GPUs, 330 KB at 64). The {@code gpu_agent_*} part is scraped from the
 * registry at every request, because its values (a cordon, a lease, a journal failure) must show in the next
 * scrape, not a sweep later; that Micrometer scrape is most of what a request allocates (BENCHMARKS.md).
 */
@ApplicationScoped
public class MetricsRoute {

    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final SamplerService sampler;

    public MetricsRoute(SamplerService sampler) {
        this.sampler = sampler;
    }

    void register(@Observes Router router) {
        router.get("/metrics").handler(this::scrape);
    }

    private void scrape(RoutingContext rc) {
        byte[] gpus = sampler.writer().render(sampler.latest());
        byte[] own = sampler.agentRegistry().scrape().getBytes(StandardCharsets.UTF_8);
        // Vert.x writes a slice of the buffer; the cached GPU array is only read, never changed.
        rc.response().putHeader("Content-Type", CONTENT_TYPE).end(Buffer.buffer(Unpooled.wrappedBuffer(gpus, own)));
    }
}
