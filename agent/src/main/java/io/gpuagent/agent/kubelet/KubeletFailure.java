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

    private final Reason reason;

    public KubeletFailure(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    public Reason reason() {
        return reason;
    }
}
