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

/**
 * One webhook delivery: a JSON POST that must answer 2xx, each attempt bounded to 10 s. {@link #guard} is the
 * policy around it, one per receiver (so one dead receiver's retries and open breaker touch no other): retried
 * with exponential backoff (0.5 s doubling up to 30 s, for at most 2 minutes), behind a circuit breaker (a
 * receiver that keeps failing is left alone for a minute). Only {@link Notifier}'s own threads call it, so
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
                .abortOn(InterruptedException.class).done()
                .withCircuitBreaker().requestVolumeThreshold(breakerVolume).failureRatio(1.0)
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
            throw new Rejected("the receiver answered " + r.statusCode()
                    + (body.isEmpty() ? "" : ": " + body.substring(0, Math.min(200, body.length()))));
        }
        return r.statusCode();
    }
}
