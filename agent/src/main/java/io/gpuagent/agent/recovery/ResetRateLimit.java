package io.gpuagent.agent.recovery;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * At most {@code limit} resets per GPU within a sliding {@code window} (default one per hour): a GPU that
 * needs more is not fixed by resetting it. Counts every reset that started, rebuilt from the audit log at
 * start, so a restart does not reset the budget; a reset the system refused for lack of privilege changed
 * nothing and gives its place back ({@link #forget}).
 */
final class ResetRateLimit {

    private final int limit;
    private final Duration window;
    private record Start(String actionId, Instant at) {
    }

    private final Map<String, Deque<Start>> starts = new HashMap<>();   // guarded by this

    ResetRateLimit(int limit, Duration window) {
        if (limit < 1 || window.isNegative() || window.isZero()) {
            throw new IllegalArgumentException("gpu-agent.recovery.reset-limit must be at least 1 and "
                    + "gpu-agent.recovery.reset-window positive, got " + limit + " per " + window);
        }
        this.limit = limit;
        this.window = window;
    }

    /** When the next reset of {@code uuid} is allowed, or empty when it is allowed now. */
    synchronized Optional<Instant> blockedUntil(String uuid, Instant now) {
        Deque<Start> d = starts.get(uuid);
        if (d == null) {
            return Optional.empty();
        }
        while (!d.isEmpty() && !d.peekFirst().at().plus(window).isAfter(now)) {
            d.removeFirst();
        }
        return d.size() < limit ? Optional.empty() : Optional.of(d.peekFirst().at().plus(window));
    }

    synchronized void record(String uuid, Instant at) {
        record(uuid, null, at);
    }

    synchronized void record(String uuid, String actionId, Instant at) {
        starts.computeIfAbsent(uuid, k -> new ArrayDeque<>()).addLast(new Start(actionId, at));
    }

    /** The reset of {@code actionId} did not happen (refused for lack of privilege): it does not count. */
    synchronized void forget(String uuid, String actionId) {
        Deque<Start> d = starts.get(uuid);
        if (d != null && actionId != null) {
            d.removeIf(s -> actionId.equals(s.actionId()));
        }
    }

    String describe() {
        return limit + " per " + window.toString().substring(2).toLowerCase();
    }
}
