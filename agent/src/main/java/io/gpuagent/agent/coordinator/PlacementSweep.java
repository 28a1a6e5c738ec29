package io.gpuagent.agent.coordinator;

import io.gpuagent.agent.journal.AgentEvent;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.jboss.logging.Logger;

/**
 * The coordinator's periodic sweep, on its own thread ({@code coordinator-sweep}): drops nodes that stopped
 * heartbeating and forgets placements whose leases the agents no longer hold after they expired (a job that
 * stopped heartbeating its leases without releasing its placement).
 */
final class PlacementSweep implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(PlacementSweep.class);

    private final NodeRegistry registry;
    private final Supplier<PlacementBook> book;
    private final Consumer<NodeRegistry.Dropped> dropped;
    private final Consumer<AgentEvent> record;
    private ScheduledExecutorService thread;

    /**
     * @param book    the placement journal, null while it is not open
     * @param dropped told of each node dropped
     * @param record  records an event in the event log
     */
    PlacementSweep(NodeRegistry registry, Supplier<PlacementBook> book, Consumer<NodeRegistry.Dropped> dropped,
                   Consumer<AgentEvent> record) {
        this.registry = registry;
        this.book = book;
        this.dropped = dropped;
        this.record = record;
    }

    void start(Duration period) {
        thread = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().name("coordinator-sweep").daemon()
                .factory());
        thread.scheduleWithFixedDelay(this::sweep, period.toMillis(), period.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        if (thread != null) {
            thread.shutdownNow();
        }
    }

    void sweep() {
        try {
            registry.dropSilent().forEach(dropped);
            PlacementBook b = book.get();
            if (b == null) {
                return;
            }
            for (Placement p : b.all()) {
                if (p.expiresAt() != null && p.allocations().stream().allMatch(a -> ended(a, p.expiresAt()))) {
                    if (b.end(p.placementId(), "expired")) {
                        String message = "placement " + p.placementId() + " of job " + p.jobId()
                                + " ended: its leases expired or were released on the agents";
                        LOG.info(message);
                        record.accept(AgentEvent.of(null, null, AgentEvent.ACTION, Coordinator.DETECTOR, "EXPIRED",
                                message));
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.errorf("coordinator sweep failed (%s); it runs again shortly. Check the state directory", e.toString());
        }
    }

    /** The node heartbeated after the lease's expiry and no longer shows the lease. */
    private boolean ended(Placement.Allocation a, Instant expiresAt) {
        return registry.node(a.node()).map(n -> n.inventory().takenAt() != null
                && n.inventory().takenAt().isAfter(expiresAt)
                && n.inventory().gpus().stream().noneMatch(g -> g.lease() != null && a.leaseId().equals(g.lease().leaseId())))
                .orElse(false);
    }
}
