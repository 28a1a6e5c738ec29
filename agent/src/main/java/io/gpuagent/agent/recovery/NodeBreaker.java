package io.gpuagent.agent.recovery;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/**
 * The node circuit breaker (docs/faults.md#rails): when more than half of the GPUs turned UNHEALTHY or LOST within the
 * window, the cause is more likely the driver, the host or the agent than the hardware, so the engine stops
 * acting by itself and alerts. Stays open until an operator closes it ({@code POST /v1/recovery/breaker/reset})
 * or the agent restarts; operator requests through the API still run while it is open.
 */
final class NodeBreaker {

    private final Duration window;
    private final Map<String, Instant> fatalSince = new HashMap<>();   // guarded by this
    private String openReason;   // guarded by this; null when closed
    private boolean announced;   // guarded by this

    NodeBreaker(Duration window) {
        this.window = window;
    }

    /** A GPU turned UNHEALTHY or LOST at {@code at}, on a node with {@code gpus} GPUs. */
    synchronized void onFatal(String uuid, Instant at, int gpus) {
        fatalSince.put(uuid, at);
        fatalSince.values().removeIf(t -> t.plus(window).isBefore(at));
        if (openReason == null && gpus > 0 && fatalSince.size() * 2 > gpus) {
            openReason = fatalSince.size() + " of " + gpus + " GPUs turned UNHEALTHY or LOST within "
                    + window.toSeconds() + " s: more likely the driver, the host or the agent than the GPUs";
            announced = false;
        }
    }

    synchronized boolean isOpen() {
        return openReason != null;
    }

    /** Why it is open, or null. */
    synchronized String openReason() {
        return openReason;
    }

    /** The reason, once, the first time it is asked after the breaker opened (for the audit line and alert). */
    synchronized String takeNewlyOpened() {
        if (openReason == null || announced) {
            return null;
        }
        announced = true;
        return openReason;
    }

    /** Closes it and forgets the recent faults (an operator looked at the node). True if it was open. */
    synchronized boolean reset() {
        boolean was = openReason != null;
        openReason = null;
        announced = false;
        fatalSince.clear();
        return was;
    }
}
