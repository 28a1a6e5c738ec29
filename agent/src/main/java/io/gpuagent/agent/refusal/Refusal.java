package io.gpuagent.agent.refusal;

import java.time.Instant;

/**
 * Why the agent (or the coordinator) will not do what a request asked. Domain code throws one of these kinds;
 * {@code http/ProblemMappers} turns each kind into its status and a problem+json body in one place, so a
 * domain class never names an HTTP status. The message is the problem's {@code detail}: it says what stands in
 * the way and what to do next. Anything else that escapes a request is a bug and answers 500.
 */
public sealed abstract class Refusal extends RuntimeException {

    private final String instance;

    private Refusal(String detail, String instance, Throwable cause) {
        // A refusal is an answer, not a fault: its stack trace says nothing the detail does not.
        super(detail, cause, false, false);
        this.instance = instance;
    }

    public String detail() {
        return getMessage();
    }

    /** What the refusal was recorded as (the audited action, {@code /v1/actions/...}), or null. */
    public String instance() {
        return instance;
    }

    /** 400: the request itself is wrong (a field, a GPU this node does not have); asking again as is cannot help. */
    public static final class Invalid extends Refusal {
        public Invalid(String detail) {
            super(detail, null, null);
        }
    }

    /** 403: the request is well formed but asks for something this node will not do for anyone (an agentUrl it may not call). */
    public static final class Forbidden extends Refusal {
        public Forbidden(String detail) {
            super(detail, null, null);
        }
    }

    /** 404: what the request names does not exist (never did, or no longer). */
    public static final class Unknown extends Refusal {
        public Unknown(String detail) {
            super(detail, null, null);
        }
    }

    /** 409: not now: the detail says what stands in the way (GPUs busy, another action running, a job placed). */
    public static final class Conflict extends Refusal {
        public Conflict(String detail) {
            this(detail, null);
        }

        public Conflict(String detail, String instance) {
            super(detail, instance, null);
        }
    }

    /** 429: a rate limit stands in the way until {@code retryAfter}. */
    public static final class RateLimited extends Refusal {
        private final Instant retryAfter;

        public RateLimited(String detail, String instance, Instant retryAfter) {
            super(detail, instance, null);
            this.retryAfter = retryAfter;
        }

        public Instant retryAfter() {
            return retryAfter;
        }
    }

    /** 502: another node, asked on the request's behalf, did not do its part. */
    public static final class PeerFailed extends Refusal {
        public PeerFailed(String detail) {
            super(detail, null, null);
        }
    }

    /** 503: the change could not be made durable (or its store is not open), so it was not made. */
    public static final class NotRecorded extends Refusal {
        public NotRecorded(String detail) {
            this(detail, null);
        }

        public NotRecorded(String detail, Throwable cause) {
            super(detail, null, cause);
        }
    }
}
