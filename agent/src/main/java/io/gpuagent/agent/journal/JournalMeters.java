package io.gpuagent.agent.journal;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.function.BooleanSupplier;

/**
 * {@code gpu_agent_journal_up{journal="placements.jsonl"}} on the coordinator: 1 while its placement journal
 * accepts records, 0 once a write or fsync failed (it stays failed until a restart). The agent's own state
 * files (events, actions, leases, usage) report through {@link JournalWatch}, which also reopens them, under the
 * same metric with their file names.
 */
public final class JournalMeters {

    static final String UP = "gpu_agent.journal.up";

    private JournalMeters() {
    }

    /** Registers the gauge of one journal, labelled with its file name. */
    public static void register(MeterRegistry registry, String fileName, BooleanSupplier usable) {
        Gauge.builder(UP, usable, u -> u.getAsBoolean() ? 1 : 0)
                .description("1 while the state file accepts records, 0 once a write or fsync failed (restart the agent after fixing the disk).")
                .tag("journal", fileName).strongReference(true).register(registry);
    }
}
