package io.gpuagent.agent.coordinator;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One HTTP call to another node with a deadline on the whole answer and a cap on its body. The JDK client's
 * request timeout ends when the headers arrive, so a peer that sends headers and then trickles (or never ends)
 * its body would hold the caller for ever and grow its memory without limit: here the body is taken in at most
 * {@link #MAX_BODY} bytes and the whole exchange is cancelled at the deadline.
 */
final class BoundedCall {

    /** A lease answer or problem+json is well under 1 KB; anything past this is not one. */
    static final int MAX_BODY = 64 * 1024;

    /** The status and the (bounded) body of an answer. */
    record Answer(int statusCode, String body) {
    }

    private final HttpClient client;
    private final Duration deadline;
    private final int maxBody;

    BoundedCall(HttpClient client, Duration deadline) {
        this(client, deadline, MAX_BODY);
    }

    BoundedCall(HttpClient client, Duration deadline, int maxBody) {
        this.client = client;
        this.deadline = deadline;
        this.maxBody = maxBody;
    }

    Duration deadline() {
        return deadline;
    }

    /**
     * Sends and reads the whole answer within the deadline.
     *
     * @throws IOException the peer could not be reached, the deadline passed (the call is cancelled), or the body
     *                     is larger than the cap
     */
    Answer send(HttpRequest request) throws IOException, InterruptedException {
        CompletableFuture<HttpResponse<String>> f = client.sendAsync(request, info -> new Capped(maxBody));
        try {
            HttpResponse<String> r = f.get(deadline.toNanos(), TimeUnit.NANOSECONDS);
            return new Answer(r.statusCode(), r.body());
        } catch (TimeoutException e) {
            f.cancel(true);
            throw new IOException("no whole answer within " + deadline.toMillis() + " ms (headers and body; "
                    + "gpu-agent.coordinator.request-timeout)");
        } catch (InterruptedException e) {
            f.cancel(true);
            throw e;
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            throw cause instanceof IOException io ? io : new IOException(String.valueOf(cause), cause);
        }
    }

    /** Collects at most {@code max} bytes; past that it cancels the body (and so the connection) and fails. */
    private static final class Capped implements HttpResponse.BodySubscriber<String> {
        private final int max;
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private final CompletableFuture<String> result = new CompletableFuture<>();
        private Flow.Subscription subscription;

        Capped(int max) {
            this.max = max;
        }

        @Override
        public CompletionStage<String> getBody() {
            return result;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            s.request(1);
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            for (ByteBuffer b : items) {
                if (out.size() + b.remaining() > max) {
                    subscription.cancel();
                    result.completeExceptionally(new IOException("the answer's body is larger than " + max
                            + " bytes; the peer is not answering as an agent or coordinator does"));
                    return;
                }
                byte[] chunk = new byte[b.remaining()];
                b.get(chunk);
                out.writeBytes(chunk);
            }
            subscription.request(1);
        }

        @Override
        public void onError(Throwable t) {
            result.completeExceptionally(t);
        }

        @Override
        public void onComplete() {
            result.complete(out.toString(StandardCharsets.UTF_8));
        }
    }
}
