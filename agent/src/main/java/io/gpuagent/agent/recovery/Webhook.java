package io.gpuagent.agent.recovery;

import io.smallrye.faulttolerance.api.ExponentialBackoff;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.eclipse.microprofile.faulttolerance.Bulkhead;
import org.eclipse.microprofile.faulttolerance.CircuitBreaker;
import org.eclipse.microprofile.faulttolerance.Retry;
import org.eclipse.microprofile.faulttolerance.Timeout;

/**
 * One webhook delivery: a JSON POST that must answer 2xx. Retried with exponential backoff (0.5 s doubling up
 * to 30 s, for at most 2 minutes), each attempt bounded to 10 s, behind a circuit breaker (a receiver that
 * keeps failing is left alone for a minute) and a bulkhead. Only {@link Notifier}'s own threads call it, so
 * none of this ever delays a recovery step.
 */
@ApplicationScoped
public class Webhook {

    /** The receiver answered, but not 2xx. */
    public static final class Rejected extends IOException {
        public Rejected(String message) {
            super(message);
        }
    }

    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Retry(maxRetries = 8, delay = 500, jitter = 100, maxDuration = 120_000)
    @ExponentialBackoff(factor = 2, maxDelay = 30_000)
    @Timeout(10_000)
    @CircuitBreaker(requestVolumeThreshold = 20, failureRatio = 1.0, delay = 60_000)
    @Bulkhead(4)
    public int post(URI url, String json) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json, StandardCharsets.UTF_8)).build();
        HttpResponse<String> r = client.send(request, HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() / 100 != 2) {
            String body = r.body() == null ? "" : r.body().strip();
            throw new Rejected("the receiver answered " + r.statusCode()
                    + (body.isEmpty() ? "" : ": " + body.substring(0, Math.min(200, body.length()))));
        }
        return r.statusCode();
    }
}
