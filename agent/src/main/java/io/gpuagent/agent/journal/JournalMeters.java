package io.gpuagent.agent.journal;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.function.BooleanSupplier;

/**
 * {@code gpu_agent_journal_up{journal}}: 1 while a state file ({@code events.jsonl}, {@code actions.jsonl},
 * {@code leases.jsonl}, the coordinator's placements) accepts records, 0 once a write or fsync failed. A failed
 * journal stays failed until the agent restarts: what it should record (events, actions, leases) is refused.
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
