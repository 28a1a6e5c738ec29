package io.gpuagent.agent.http;

import io.gpuagent.agent.AgentRegistry;
import io.gpuagent.agent.sampler.SamplerService;
import io.netty.buffer.Unpooled;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.CoderResult;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * {@code GET /metrics}: the GPU family (dcgm-exporter names, rendered once per snapshot) followed by the
 * agent's own {@code gpu_agent_*} series. A plain Vert.x route on the event loop: a scrape only copies bytes
 * that are already rendered, so it never waits for NVML and needs no worker thread.
 *
 * <p>The two parts are wrapped, not copied, into the response: the GPU family is the writer's cached array
 * for the snapshot (57 KB at 8 GPUs, 330 KB at 64). The {@code gpu_agent_*} part is scraped from the
 * registry at every request, because its values (a cordon, a lease, a journal failure) must show in the next
 * scrape, not a sweep later. It is written into a text buffer and an encoder kept per event-loop thread,
 * so a request allocates the registry's own sample objects and the one array of its bytes, not a growing
 * string, its copy and its encoding (BENCHMARKS.md).
 */
@ApplicationScoped
public class MetricsRoute {

    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final SamplerService sampler;
    private final AgentRegistry agentRegistry;
    private final ThreadLocal<OwnText> ownText = ThreadLocal.withInitial(OwnText::new);

    public MetricsRoute(SamplerService sampler, AgentRegistry agentRegistry) {
        this.sampler = sampler;
        this.agentRegistry = agentRegistry;
    }

    void register(@Observes Router router) {
        router.get("/metrics").handler(this::scrape);
    }

    private void scrape(RoutingContext rc) {
        byte[] gpus = sampler.writer().render(sampler.latest());
        byte[] own = ownText.get().render(agentRegistry);
        // Vert.x writes a slice of the buffer; the cached GPU array is only read, never changed.
        rc.response().putHeader("Content-Type", CONTENT_TYPE).end(Buffer.buffer(Unpooled.wrappedBuffer(gpus, own)));
    }

    /** One event-loop thread's buffers for the registry's text; they grow to the largest scrape and stay. */
    private static final class OwnText extends Writer {
        private final StringBuilder text = new StringBuilder(32 * 1024);
        // As String.getBytes: a malformed character becomes '?', never an error.
        private final CharsetEncoder utf8 = StandardCharsets.UTF_8.newEncoder()
                .onMalformedInput(CodingErrorAction.REPLACE).onUnmappableCharacter(CodingErrorAction.REPLACE);
        private ByteBuffer bytes = ByteBuffer.allocate(32 * 1024);

        byte[] render(AgentRegistry agentRegistry) {
            text.setLength(0);
            try {
                agentRegistry.registry().scrape(this);
            } catch (IOException e) {
                throw new UncheckedIOException(e);   // never: this writer does no I/O
            }
            CharBuffer in = CharBuffer.wrap(text);
            utf8.reset();
            bytes.clear();
            while (true) {
                CoderResult r = utf8.encode(in, bytes, true);
                if (r.isOverflow()) {
                    bytes = ByteBuffer.allocate(bytes.capacity() * 2).put(bytes.flip());
                    continue;
                }
                if (r.isUnderflow() && utf8.flush(bytes).isUnderflow()) {
                    break;
                }
                if (r.isError()) {
                    throw new IllegalStateException("UTF-8 encoding failed: " + r);   // unreachable with REPLACE
                }
            }
            return Arrays.copyOf(bytes.array(), bytes.position());
        }

        @Override
        public void write(char[] cbuf, int off, int len) {
            text.append(cbuf, off, len);
        }

        @Override
        public void write(String str, int off, int len) {
            text.append(str, off, off + len);
        }

        @Override
        public Writer append(CharSequence csq) {
            text.append(csq);
            return this;
        }

        @Override
        public void write(int c) {
            text.append((char) c);
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    }
}
