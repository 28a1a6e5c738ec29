package io.gpuagent.agent.kubelet;

import java.util.Objects;

/** A call to the kubelet that gave no usable answer, with a reason from a closed set (a metric label). */
public final class KubeletFailure extends Exception {

    /** Why; {@link #label()} is the metric label. */
    public enum Reason {
        /** No socket at the configured path (kubelet down, or the hostPath is not mounted). */
        SOCKET_MISSING("socket_missing"),
        /** The call took longer than the deadline. */
        DEADLINE("deadline"),
        /** The answer was larger than the configured limit. */
        TOO_LARGE("too_large"),
        /** The socket did not take the connection, or the kubelet went away during the call. */
        UNAVAILABLE("unavailable"),
        /** Anything else: refused, unimplemented, an answer that did not parse. */
        ERROR("error");

        private final String label;

        Reason(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    /** gRPC's status code for a method the server does not have. */
    public static final int UNIMPLEMENTED = 12;

    private final Reason reason;
    private final int status;

    public KubeletFailure(Reason reason, String message, Throwable cause) {
        this(reason, -1, message, cause);
    }

    /** A failure the kubelet stated with gRPC status {@code status}. */
    public KubeletFailure(Reason reason, int status, String message, Throwable cause) {
        super(message, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
        this.status = status;
    }

    public Reason reason() {
        return reason;
    }

    /** The gRPC status code the kubelet answered with; -1 when the call failed before it named one. */
    public int status() {
        return status;
    }
}
