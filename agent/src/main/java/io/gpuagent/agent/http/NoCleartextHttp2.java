package io.gpuagent.agent.http;

import io.quarkus.vertx.http.HttpServerOptionsCustomizer;
import io.vertx.core.http.HttpServerOptions;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * The plain-HTTP listener speaks HTTP/1.1 only: an {@code Upgrade: h2c} request is answered in HTTP/1.1.
 * No client of the agent needs cleartext HTTP/2 (Prometheus, curl, the Slurm scripts and the coordinator speak
 * HTTP/1.1), and it would let one connection carry many concurrent streams past the connection bounds. It also
 * broke the event stream: a Java client upgrading a {@code /v1/events/stream} request at times saw the stream
 * closed before its first byte. HTTP/2 over TLS (negotiated by ALPN) is left as Quarkus configures it.
 */
@ApplicationScoped
public class NoCleartextHttp2 implements HttpServerOptionsCustomizer {

    @Override
    public void customizeHttpServer(HttpServerOptions options) {
        options.setHttp2ClearTextEnabled(false);
    }
}
