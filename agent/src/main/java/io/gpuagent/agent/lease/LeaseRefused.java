package io.gpuagent.agent.lease;

/**
 * Why a lease operation cannot be done; the HTTP layer maps each kind to its status. The message is the
 * problem's {@code detail}: it says what stands in the way and what to do.
 */
public sealed abstract class LeaseRefused extends RuntimeException {

    LeaseRefused(String message, Throwable cause) {
        super(message, cause);
    }

    /** 409: the node cannot satisfy the request now (GPUs busy, unhealthy, cordoned; the job already holds one). */
    public static final class Unsatisfiable extends LeaseRefused {
        public Unsatisfiable(String message) {
            super(message, null);
        }
    }

    /** 404: no live lease has this id (never granted, released, or expired). */
    public static final class Unknown extends LeaseRefused {
        public Unknown(String leaseId) {
            super("no live lease " + leaseId + " on this node (never granted, released, or expired); "
                    + "GET /v1/leases lists the live ones", null);
        }
    }

    /** 503: the change could not be made durable, so it was not made. */
    public static final class NotRecorded extends LeaseRefused {
        public NotRecorded(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
