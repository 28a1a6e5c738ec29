package io.gpuagent.agent.events;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A minimal server-sent-events reader over java.net.http: every frame ({@code id:}, {@code event:},
 * {@code data:}) and every comment line, in order, on a queue.
 */
final class SseClient implements AutoCloseable {

    /** One dispatched frame; {@code comment} is set (and the rest null) for a comment line. */
    record Frame(String id, String event, String data, String comment) {
        boolean isComment() {
            return comment != null;
        }
    }

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final BlockingQueue<Frame> frames = new LinkedBlockingQueue<>();
    private final List<String> transcript = new ArrayList<>();   // guarded by itself; for failure messages
    private final HttpResponse<java.io.InputStream> response;
    private final Thread reader;

    private SseClient(URI uri, String lastEventId) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri).header("Accept", "text/event-stream");
        if (lastEventId != null) {
            request.header("Last-Event-ID", lastEventId);
        }
        response = http.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
        reader = Thread.ofPlatform().daemon().name("sse-test-reader").start(this::read);
    }

    static SseClient open(URI uri, String lastEventId) throws IOException, InterruptedException {
        return new SseClient(uri, lastEventId);
    }

    int status() {
        return response.statusCode();
    }

    String contentType() {
        return response.headers().firstValue("Content-Type").orElse("");
    }

    /** The next frame or comment, or null after {@code timeout}. */
    Frame next(Duration timeout) throws InterruptedException {
        return frames.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The next event frame (comments skipped), or null after {@code timeout}. */
    Frame nextEvent(Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = end - System.nanoTime();
            Frame f = left <= 0 ? null : frames.poll(left, TimeUnit.NANOSECONDS);
            if (f == null || !f.isComment()) {
                return f;
            }
        }
    }

    private void read() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
            String id = null;
            String event = null;
            StringBuilder data = null;
            for (String line; (line = in.readLine()) != null; ) {
                record(line);
                if (line.isEmpty()) {
                    if (data != null || event != null || id != null) {
                        frames.add(new Frame(id, event, data == null ? null : data.toString(), null));
                    }
                    id = null;
                    event = null;
                    data = null;
                } else if (line.startsWith(":")) {
                    frames.add(new Frame(null, null, null, line.substring(1).strip()));
                } else if (line.startsWith("id:")) {
                    id = line.substring(3).strip();
                } else if (line.startsWith("event:")) {
                    event = line.substring(6).strip();
                } else if (line.startsWith("data:")) {
                    String d = line.substring(5);
                    d = d.startsWith(" ") ? d.substring(1) : d;
                    data = data == null ? new StringBuilder(d) : data.append('\n').append(d);
                }
            }
            record("<end of stream>");
        } catch (IOException e) {
            record("<" + e + ">");
        }
    }

    private void record(String line) {
        synchronized (transcript) {
            if (transcript.size() < 200) {
                transcript.add(line.length() > 300 ? line.substring(0, 300) + "..." : line);
            }
        }
    }

    /** What the server sent so far (the first 200 lines, each cut at 300 characters), and the HTTP version: for a failure message. */
    String transcript() {
        synchronized (transcript) {
            return response.version() + " " + response.statusCode() + " " + String.join("\\n", transcript);
        }
    }

    @Override
    public void close() {
        http.shutdownNow();
        try {
            response.body().close();
        } catch (IOException e) {
            // closing anyway
        }
    }
}
