package io.gpuagent.agent.http;

import io.gpuagent.agent.AgentRegistry;
import io.gpuagent.agent.sampler.SamplerService;
import io.gpuagent.exporter.Snapshot;
import io.gpuagent.exporter.TextBytes;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.util.IllegalReferenceCountException;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code GET /metrics}: the GPU family (dcgm-exporter names, rendered once per snapshot) followed by the
 * agent's own {@code gpu_agent_*} series. A plain Vert.x route on the event loop: a scrape never waits for
 * NVML and needs no worker thread.
 *
 * <p>Built to allocate little, since every young collection stops every request (BENCHMARKS.md), and to
 * copy little: the GPU family goes out as one direct (native) buffer made once per rendered snapshot and
 * written to every scrape; the {@code gpu_agent_*} part is written at every request (a cordon or a lease shows
 * in the next scrape, not a sweep later) by {@link io.gpuagent.exporter.AgentMetricsWriter} into a text buffer
 * kept per event-loop thread, then copied into a direct response buffer that is reused once written. Direct,
 * because Netty copies a heap buffer into a pooled direct one at every write: that copy, and the pool chunk
 * it took and gave back each time (a whole chunk for 59 KB, a fresh native allocation past 64 KB, so at
 * every 64-GPU scrape), were most of what a scrape still allocated.
 *
 * <p>Vert.x writes a buffer it did not make without releasing it, so the same one can be written many times;
 * the reference counts are ours. The current family buffer holds one reference, each scrape in flight one
 * more, released once Vert.x has written it (after TLS encryption): a family buffer is freed when it is no
 * longer current and its last scrape is written.
 */
@ApplicationScoped
public class MetricsRoute {

    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final SamplerService sampler;
    private final AgentRegistry agentRegistry;
    private final ThreadLocal<OwnPart> own = ThreadLocal.withInitial(OwnPart::new);
    private final AtomicReference<Rendered> gpus = new AtomicReference<>(new Rendered(-1, new byte[0], Unpooled.directBuffer(0)));

    /** The GPU family of one snapshot, as rendered and as a direct buffer; {@code direct} holds a reference while current. */
    private record Rendered(long sequence, byte[] bytes, ByteBuf direct) {
    }

    /**
     * An event-loop thread's text buffer for the {@code gpu_agent_*} part, and the direct response buffers it
     * is copied into: each goes back to {@code free} once Vert.x has written it (TLS holds a buffer until it is
     * encrypted, so not before); at most {@link #KEPT} are kept, one more is released (native memory).
     */
    private static final class OwnPart {
        static final int KEPT = 4;
        final TextBytes text = new TextBytes(32 * 1024);
        final ArrayBlockingQueue<ByteBuf> free = new ArrayBlockingQueue<>(KEPT);   // completions may run elsewhere

        ByteBuf copy() {
            ByteBuf b = free.poll();
            if (b == null) {
                b = Unpooled.directBuffer(text.length());
            }
            b.clear();
            return b.writeBytes(text.array(), 0, text.length());
        }

        void written(ByteBuf b) {
            if (!free.offer(b)) {
                b.release();
            }
        }
    }

    public MetricsRoute(SamplerService sampler, AgentRegistry agentRegistry) {
        this.sampler = sampler;
        this.agentRegistry = agentRegistry;
    }

    void register(@Observes Router router) {
        // HEAD where GET is (StrictRequests): Vert.x sends the headers, Content-Length included, and no body.
        router.route("/metrics").method(HttpMethod.GET).method(HttpMethod.HEAD).handler(this::scrape);
    }

    private void scrape(RoutingContext rc) {
        ByteBuf family = gpuFamily();
        OwnPart part = own.get();
        ByteBuf text = null;
        try {
            part.text.reset();
            agentRegistry.writer().write(part.text);
            text = part.copy();
            HttpServerResponse response = rc.response();
            response.putHeader(HttpHeaders.CONTENT_TYPE, CONTENT_TYPE)
                    .putHeader(HttpHeaders.CONTENT_LENGTH, Integer.toString(family.readableBytes() + text.readableBytes()));
            response.write(Buffer.buffer(family));
            ByteBuf written = text;
            text = null;
            response.end(Buffer.buffer(written)).onComplete(done -> {
                family.release();
                part.written(written);
                if (done.failed()) {
                    OutOfMemoryExit.exitIfOutOfMemory(done.cause());   // Netty could not buffer it (direct memory)
                }
            });
        } catch (RuntimeException e) {
            family.release();   // not handed to Vert.x: ours to give back
            if (text != null) {
                part.written(text);
            }
            throw e;
        }
    }

    /** The latest snapshot's GPU family, with a reference the caller releases once it is written. */
    private ByteBuf gpuFamily() {
        Snapshot snapshot = sampler.latest();
        byte[] bytes = sampler.writer().render(snapshot);
        for (;;) {
            Rendered r = gpus.get();
            if (r.bytes != bytes && snapshot.sequence() >= r.sequence) {
                ByteBuf direct = Unpooled.directBuffer(bytes.length, bytes.length).writeBytes(bytes);
                Rendered next = new Rendered(snapshot.sequence(), bytes, direct);
                if (!gpus.compareAndSet(r, next)) {
                    direct.release();   // another scrape made it first
                    continue;
                }
                r.direct.release();
                r = next;
            }
            try {
                return r.direct.retain();
            } catch (IllegalReferenceCountException e) {
                // Replaced and its last scrape written between our read and the retain: take the current one.
            }
        }
    }
}
