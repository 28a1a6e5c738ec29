package io.gpuagent.agent.recovery;

import io.smallrye.faulttolerance.api.Guard;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.List;

/**
 * One webhook delivery: a JSON POST that must answer 2xx, each attempt bounded to 10 s. {@link #guard} is the
 * policy around it, one per receiver (so one dead receiver's retries and open breaker touch no other): retried
 * with exponential backoff (0.5 s doubling up to 30 s, for at most 2 minutes), behind a circuit breaker (a
 * receiver that keeps failing is left alone for a minute). A 4xx other than 408 and 429 is {@link Refused}
 * and never retried: the request itself is wrong (a mistyped or deleted webhook, a revoked secret), and the
 * same request will be refused again. Only {@link Notifier}'s own threads call it, so none of this ever
 * delays a recovery step.
 */
@ApplicationScoped
public class Webhook {

    /** The receiver answered, but not 2xx. */
    public static class Rejected extends IOException {
        private final int status;

        public Rejected(int status, String message) {
            super(message);
            this.status = status;
        }

        public int status() {
            return status;
        }
    }

    /** A 4xx other than 408 (request timeout) and 429 (too many requests): retrying the same request cannot help. */
    public static final class Refused extends Rejected {
        public Refused(int status, String message) {
            super(status, message);
        }
    }

    /** Whether an answer with this status says the request is wrong, not that the receiver is busy or down. */
    static boolean refusal(int status) {
        return status >= 400 && status < 500 && status != 408 && status != 429;
    }

    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** The retry and breaker of one receiver; {@code description} names it in SmallRye's own messages. */
    static Guard guard(String description) {
        return guard(description, 8, Duration.ofMillis(500), Duration.ofSeconds(30), Duration.ofMinutes(2),
                20, Duration.ofMinutes(1));
    }

    static Guard guard(String description, int retries, Duration firstDelay, Duration maxDelay, Duration maxDuration,
                       int breakerVolume, Duration breakerDelay) {
        return Guard.create().withDescription(description)
                .withRetry().maxRetries(retries).delay(firstDelay.toMillis(), ChronoUnit.MILLIS)
                .jitter(Math.min(100, firstDelay.toMillis() / 2), ChronoUnit.MILLIS)
                .maxDuration(maxDuration.toMillis(), ChronoUnit.MILLIS)
                .withExponentialBackoff().factor(2).maxDelay(maxDelay.toMillis(), ChronoUnit.MILLIS).done()
                .abortOn(List.of(InterruptedException.class, Refused.class)).done()
                // A refusal is a configuration mistake, answered at once: the receiver is up, so no reason to open.
                .withCircuitBreaker().requestVolumeThreshold(breakerVolume).failureRatio(1.0).skipOn(Refused.class)
                .delay(breakerDelay.toMillis(), ChronoUnit.MILLIS).done()
                .build();
    }

    public int post(URI url, String json) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json, StandardCharsets.UTF_8)).build();
        HttpResponse<String> r = client.send(request, HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() / 100 != 2) {
            String body = r.body() == null ? "" : r.body().strip();
            String message = "the receiver answered " + r.statusCode()
                    + (body.isEmpty() ? "" : ": " + body.substring(0, Math.min(200, body.length())));
            throw refusal(r.statusCode()) ? new Refused(r.statusCode(), message) : new Rejected(r.statusCode(), message);
        }
        return r.statusCode();
    }
}
