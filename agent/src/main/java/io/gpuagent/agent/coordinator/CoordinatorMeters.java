package io.gpuagent.agent.coordinator;

import io.gpuagent.agent.journal.JournalMeters;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.function.Supplier;

/** The coordinator's series: registered nodes, live placements, placement results, refusals, drops. */
final class CoordinatorMeters {

    private final Counter placed;
    private final Counter noFit;
    private final Counter refused;
    private final Counter dropped;

    /** {@code book}: the placement journal, null while it is not open. */
    CoordinatorMeters(MeterRegistry meters, NodeRegistry registry, Supplier<PlacementBook> book) {
        JournalMeters.register(meters, PlacementBook.FILE_NAME, () -> book.get() != null && book.get().usable());
        Gauge.builder("gpu_agent_coordinator_nodes", registry, r -> r.nodes().size())
                .description("Nodes registered with this coordinator (heartbeating)").register(meters);
        Gauge.builder("gpu_agent_coordinator_live_placements", book, b -> b.get() == null ? 0 : b.get().size())
                .description("Live placements this coordinator made").strongReference(true).register(meters);
        placed = Counter.builder("gpu_agent_coordinator_placements_total").tag("result", "placed")
                .description("Placement requests by result").register(meters);
        noFit = Counter.builder("gpu_agent_coordinator_placements_total").tag("result", "no_fit")
                .description("Placement requests by result").register(meters);
        refused = Counter.builder("gpu_agent_coordinator_lease_refusals_total")
                .description("Leases an agent refused or failed while placing (the next candidate was tried)")
                .register(meters);
        dropped = Counter.builder("gpu_agent_coordinator_nodes_dropped_total")
                .description("Nodes dropped for missing heartbeats").register(meters);
    }

    void placed() {
        placed.increment();
    }

    void noFit() {
        noFit.increment();
    }

    /** An agent refused or failed a lease while placing. */
    void refused() {
        refused.increment();
    }

    /** A node dropped for missing heartbeats. */
    void dropped() {
        dropped.increment();
    }
}
