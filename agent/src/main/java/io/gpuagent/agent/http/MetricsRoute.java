package io.gpuagent.agent.http;

import io.gpuagent.agent.SamplerService;
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
 *
 * <p>The whole body is rendered once and the same bytes are served to every scrape of that snapshot for
 * up to {@link #REUSE_NANOS}. Rendering the agent's registry (Micrometer's Prometheus scrape) allocated
 * about 200 KB per scrape, which under load meant a young collection every hundred scrapes: that was the
 * scrape latency tail (BENCHMARKS.md, "Where the time and memory go"). The bound keeps the values that move
 * between sweeps (errors, journal and lease meters, the snapshot's age) at most that old, and a sampler that
 * stops publishing still shows a growing {@code gpu_agent_snapshot_age_seconds}.
 */
@ApplicationScoped
public class MetricsRoute {

    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
    /** How long a rendered body is served again while its snapshot is the latest. */
    static final long REUSE_NANOS = 250_000_000L;

    private final SamplerService sampler;
    private volatile Body body;

    /** A rendered body: for which GPU bytes (the writer's cached array for one snapshot) and when. */
    private record Body(byte[] gpus, long renderedAt, Buffer bytes) {
    }

    public MetricsRoute(SamplerService sampler) {
        this.sampler = sampler;
    }

    void register(@Observes Router router) {
        router.get("/metrics").handler(this::scrape);
    }

    private void scrape(RoutingContext rc) {
        // Vert.x writes a slice of the buffer per response, so one Buffer may be served to many at once.
        rc.response().putHeader("Content-Type", CONTENT_TYPE).end(current().bytes);
    }

    private Body current() {
        Snapshot snapshot = sampler.latest();
        byte[] gpus = sampler.writer().render(snapshot);   // the same array while snapshot and labels stand
        long now = System.nanoTime();
        Body b = body;
        if (b != null && b.gpus == gpus && now - b.renderedAt < REUSE_NANOS) {
            return b;
        }
        String own = sampler.agentRegistry().scrape();
        Buffer bytes = Buffer.buffer(gpus.length + own.length() + 64).appendBytes(gpus).appendString(own);
        b = new Body(gpus, now, bytes);
        body = b;   // two event loops may both render at a boundary: either body is right
        return b;
    }
}
