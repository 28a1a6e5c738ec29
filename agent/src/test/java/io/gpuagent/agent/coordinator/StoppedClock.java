package io.gpuagent.agent.coordinator;

import jakarta.enterprise.inject.Alternative;
import jakarta.inject.Singleton;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/**
 * A wall clock that stands still at the moment the application started, for a test profile that lists it in
 * {@code getEnabledAlternatives()}: nothing the coordinator times by the wall clock (node timeouts, held GPUs)
 * then runs out while a slow or busy test machine is between two requests of one test.
 */
@Alternative
@Singleton
public class StoppedClock extends Clock {

    private final Instant at = Instant.now();

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        return Clock.fixed(at, zone);
    }

    @Override
    public Instant instant() {
        return at;
    }
}
