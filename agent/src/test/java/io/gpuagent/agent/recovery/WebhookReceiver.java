package io.gpuagent.agent.recovery;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A webhook receiver for the tests (JDK HttpServer on loopback), started by the test profile and up for the
 * whole JVM. The profile and the test run in different class loaders, so the test talks to it over HTTP too:
 * {@link #failTwice} makes deliveries whose body holds a marker fail with 503 twice before one succeeds, and
 * {@link #statuses} lists what every delivery attempt holding some text was answered.
 */
final class WebhookReceiver {

    private static final String PROPERTY = "recovery-test.webhook-url";
    private static final HttpClient CLIENT = HttpClient.newHttpClient();

    private final List<String[]> attempts = new CopyOnWriteArrayList<>();   // {status, body}
    private volatile String marker = "\u0000";
    private final AtomicInteger failuresLeft = new AtomicInteger();

    private WebhookReceiver() {
    }

    /** Starts the receiver once per JVM; returns its delivery URL. */
    static synchronized String start() {
        String url = System.getProperty(PROPERTY);
        if (url != null) {
            return url;
        }
        WebhookReceiver r = new WebhookReceiver();
        try {
            HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            server.createContext("/hook", r::deliver);
            server.createContext("/control", r::control);
            server.start();
            url = "http://127.0.0.1:" + server.getAddress().getPort() + "/hook";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        System.setProperty(PROPERTY, url);
        return url;
    }

    static void failTwice(String bodyMarker) {
        call("fail-twice", bodyMarker);
    }

    /** The status answered to each delivery attempt whose body contains {@code text}, in order. */
    static List<Integer> statuses(String text) {
        String out = call("statuses", text);
        return out.isBlank() ? List.of() : Arrays.stream(out.strip().split(",")).map(Integer::valueOf).toList();
    }

    private static String call(String what, String arg) {
        String base = System.getProperty(PROPERTY).replace("/hook", "/control");
        try {
            return CLIENT.send(HttpRequest.newBuilder(URI.create(base + "?" + what + "=" + URLEncoder.encode(arg,
                    StandardCharsets.UTF_8))).build(), HttpResponse.BodyHandlers.ofString()).body();
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException("webhook receiver: " + e, e);
        }
    }

    private void deliver(HttpExchange exchange) throws IOException {
        String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        int status = body.contains(marker) && failuresLeft.getAndUpdate(n -> Math.max(0, n - 1)) > 0 ? 503 : 204;
        attempts.add(new String[] {Integer.toString(status), body});
        exchange.sendResponseHeaders(status, -1);
        exchange.close();
    }

    private void control(HttpExchange exchange) throws IOException {
        String[] query = exchange.getRequestURI().getRawQuery().split("=", 2);
        String arg = URLDecoder.decode(query[1], StandardCharsets.UTF_8);
        String answer = "";
        if (query[0].equals("fail-twice")) {
            failuresLeft.set(2);
            marker = arg;
        } else {
            answer = String.join(",", attempts.stream().filter(a -> a[1].contains(arg)).map(a -> a[0]).toList());
        }
        byte[] bytes = answer.getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(200, bytes.length == 0 ? -1 : bytes.length);
        exchange.getResponseBody().write(bytes);
        exchange.close();
    }
}
