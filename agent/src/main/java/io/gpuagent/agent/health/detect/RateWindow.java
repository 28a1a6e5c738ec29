package io.gpuagent.agent.health.detect;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;

/**
 * A counter's increase over a sliding window. Only changes are stored, so a quiet counter costs one entry.
 * Before a full window has passed, the increase is counted since the first reading and still compared with
 * the full window's budget: a detector never alarms on a short, extrapolated history.
 */
final class RateWindow {

    private record Point(Instant at, double value) {
    }

    private final Duration window;
    private final ArrayDeque<Point> points = new ArrayDeque<>();   // oldest first, one per change

    RateWindow(Duration window) {
        this.window = window;
    }

    /** Adds a reading and returns the increase over the last window (0 at first and after a counter reset). */
    double add(Instant now, double value) {
        Point last = points.peekLast();
        if (last != null && value < last.value()) {
            points.clear();   // the counter restarted (GPU reset, driver reload): start over from here
            last = null;
        }
        if (last == null || value != last.value()) {
            points.addLast(new Point(now, value));
        }
        // The baseline is the newest point at or before the window's start; older ones are not needed.
        Instant start = now.minus(window);
        while (points.size() >= 2) {
            Point first = points.pollFirst();
            if (points.peekFirst().at().isAfter(start)) {
                points.addFirst(first);
                break;
            }
        }
        return value - points.peekFirst().value();
    }

    /** How many events the window may hold at {@code perMinute}. */
    static double budget(Duration window, double perMinute) {
        return perMinute * window.toMillis() / 60_000.0;
    }
}
