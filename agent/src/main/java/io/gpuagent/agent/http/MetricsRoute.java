package io.gpuagent.agent.http;

import io.gpuagent.agent.AgentRegistry;
import io.gpuagent.agent.sampler.SamplerService;
import io.gpuagent.exporter.TextBytes;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.concurrent.ArrayBlockingQueue;

/**
 * {@code GET /metrics}: the GPU family (dcgm-exporter names, rendered once per snapshot) followed by the
 * agent's own {@code gpu_agent_*} series. A plain Vert.x route on the event loop: a scrape never waits for
 * NVML and needs no worker thread.
 *
 * <p>Built to allocate little, since every young collection stops every request (BENCHMARKS.md): the GPU
 * family goes out as one Vert.x buffer made once per rendered snapshot and written to every scrape (Vert.x's
 * own heap buffers need no release, so one can be written many times); the {@code gpu_agent_*} part is
 * written at every request (a cordon or a lease shows in the next scrape, not a sweep later) by
 * {@link io.gpuagent.exporter.AgentMetricsWriter} into a text buffer kept per event-loop thread, then copied
 * into a response buffer that is reused once written.
 */
@ApplicationScoped
public class MetricsRoute {

    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final SamplerService sampler;
    private final AgentRegistry agentRegistry;
    private final ThreadLocal<OwnPart> own = ThreadLocal.withInitial(OwnPart::new);
    private volatile Rendered gpus = new Rendered(new byte[0], Buffer.buffer());

    private record Rendered(byte[] bytes, Buffer buffer) {
    }

    /**
     * An event-loop thread's text buffer for the {@code gpu_agent_*} part, and the response buffers it is
     * copied into: each goes back to {@code free} once Vert.x has written it (TLS holds a buffer until it is
     * encrypted, so not before), and at most {@link #KEPT} are kept. Vert.x does not release a buffer it did
     * not make, which is what lets one be written again.
     */
    private static final class OwnPart {
        static final int KEPT = 4;
        final TextBytes text = new TextBytes(32 * 1024);
        final ArrayBlockingQueue<ByteBuf> free = new ArrayBlockingQueue<>(KEPT);   // completions may run elsewhere

        ByteBuf copy() {
            ByteBuf b = free.poll();
            if (b == null) {
                b = Unpooled.buffer(text.length());
            }
            b.clear();
            return b.writeBytes(text.array(), 0, text.length());
        }
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
        OwnPart part = own.get();
        part.text.reset();
        agentRegistry.writer().write(part.text);
        ByteBuf text = part.copy();
        HttpServerResponse response = rc.response();
        response.putHeader(HttpHeaders.CONTENT_TYPE, CONTENT_TYPE)
                .putHeader(HttpHeaders.CONTENT_LENGTH, Integer.toString(family.length() + text.readableBytes()));
        response.write(family);
        response.end(Buffer.buffer(text)).onComplete(done -> part.free.offer(text));
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
