package io.gpuagent.agent;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.time.Clock;

/**
 * The wall clock the agent's beans read (leases, recovery, the coordinator), as a bean so that a test can put a
 * clock it moves itself in its place instead of waiting for time to pass. Durations measured within the
 * process (timeouts, settle times) keep {@code System.nanoTime()}: they must not jump with the wall clock.
 */
@ApplicationScoped
public class SystemClock {

    @Produces
    @Singleton
    Clock clock() {
        return Clock.systemUTC();
    }
}
