package io.gpuagent.dcgm;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * A registered policy callback: violations land in a bounded queue; when it is full the newest is dropped and
 * counted. {@link #close()} unregisters it (a violation DCGM delivers after that is dropped).
 */
public interface PolicyRegistration extends AutoCloseable {

    /** The next violation, waiting up to {@code timeout}; empty when none came. */
    Optional<PolicyViolation> poll(Duration timeout) throws InterruptedException;

    /** Everything queued now, oldest first. */
    List<PolicyViolation> drain();

    /** Violations dropped because the queue was full. */
    long dropped();

    @Override
    void close();
}
