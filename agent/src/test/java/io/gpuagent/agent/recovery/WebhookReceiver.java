package io.gpuagent.agent.recovery;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A webhook receiver for the tests (JDK HttpServer on loopback), up for the whole JVM so that the agent under
 * test always has somewhere to send. Deliveries whose body contains {@link #failTwice}'s marker fail with 503
 * twice, then succeed; every attempt is recorded.
 */
final class WebhookReceiver {

    record Attempt(int status, String body) {
    }

    static final WebhookReceiver INSTANCE = new WebhookReceiver();

    private final HttpServer server;
    private final List<Attempt> attempts = new CopyOnWriteArrayList<>();
    private volatile String marker = "\u0000";
    private final AtomicInteger failuresLeft = new AtomicInteger();

    private WebhookReceiver() {
        try {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        server.createContext("/hook", exchange -> {
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            int status = body.contains(marker) && failuresLeft.getAndUpdate(n -> Math.max(0, n - 1)) > 0 ? 503 : 204;
            attempts.add(new Attempt(status, body));
            exchange.sendResponseHeaders(status, -1);
            exchange.close();
        });
        server.start();
    }

    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/hook";
    }

    void failTwice(String bodyMarker) {
        failuresLeft.set(2);
        marker = bodyMarker;
    }

    List<Attempt> attemptsWith(String text) {
        return attempts.stream().filter(a -> a.body().contains(text)).toList();
    }
}
