package io.gpuagent.agent.recovery;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.agent.AgentConfig;
import io.gpuagent.agent.SamplerService;
import io.gpuagent.agent.journal.AgentEvent;
import io.gpuagent.agent.journal.EventLog;
import io.gpuagent.agent.journal.JournalMeters;
import io.gpuagent.agent.journal.JsonlJournal;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.function.Predicate;
import org.jboss.logging.Logger;

/**
 * The audit log {@code state-dir/actions.jsonl}: append-only, one line per step, each fsynced before
 * {@link #append} returns (so nothing acts, and no API answers 2xx, before its line is durable). The newest
 * {@value #MEMORY} lines are kept in memory for {@code GET /v1/actions}; the file is never compacted (actions
 * are rare: rate limits and the breaker bound them). Every line also goes to the event log as an
 * {@link AgentEvent#ACTION} event and counts in {@code gpu_agent_actions_total{action,result}}.
 */
@ApplicationScoped
public class ActionAudit {

    public static final String FILE_NAME = "actions.jsonl";
    static final int MEMORY = 10_000;
    static final String ACTIONS_TOTAL = "gpu_agent.actions";

    private static final Logger LOG = Logger.getLogger(ActionAudit.class);

    private final JsonlJournal<ActionRecord> journal;
    private final EventLog events;
    private final MeterRegistry registry;
    private final ArrayDeque<ActionRecord> memory = new ArrayDeque<>();   // guarded by this
    private final List<ActionRecord> replayed;
    private long lastId;   // guarded by this

    @Inject
    public ActionAudit(AgentConfig config, ObjectMapper mapper, EventLog events, SamplerService sampler) {
        this(config.stateDir(), mapper, events, sampler.agentRegistry());
    }

    ActionAudit(Path stateDir, ObjectMapper mapper, EventLog events, MeterRegistry registry) {
        this.events = events;
        this.registry = registry;
        List<ActionRecord> all = new ArrayList<>();
        try {
            this.journal = JsonlJournal.open(stateDir.resolve(FILE_NAME), ActionRecord.class, mapper, r -> {
                all.add(r);
                lastId = Math.max(lastId, r.id());
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the audit log " + stateDir.resolve(FILE_NAME) + " ("
                    + e.getMessage() + "); the agent needs a writable gpu-agent.state-dir", e);
        }
        JournalMeters.register(registry, FILE_NAME, journal::usable);
        this.replayed = List.copyOf(all);
        for (ActionRecord r : all.subList(Math.max(0, all.size() - MEMORY), all.size())) {
            memory.addLast(r);
        }
        // Zero-valued series for the common outcomes, so rate() and alerts see them from the start.
        for (Step s : List.of(Step.RESET, Step.DRAIN, Step.REQUEST_REBOOT)) {
            for (Result r : List.of(Result.SUCCEEDED, Result.FAILED)) {
                counter(s.label(), r);
            }
        }
        LOG.infof("audit log %s: %d line(s)", journal.file(), all.size());
    }

    void close(@Observes ShutdownEvent event) {
        journal.close();
    }

    /** Every line in the file when the agent started, oldest first (escalation, rate limits and cordons are rebuilt from it). */
    public List<ActionRecord> replayed() {
        return replayed;
    }

    /**
     * Writes the line, fsyncs it, then publishes it (memory, event log, metric). Returns it with its id and time.
     *
     * @throws UncheckedIOException when it could not be made durable: the caller must not act
     */
    public ActionRecord append(ActionRecord line) {
        ActionRecord stored;
        long ticket;
        synchronized (this) {
            stored = line.withId(lastId + 1, Instant.now());
            try {
                ticket = journal.write(stored);
            } catch (IOException e) {
                throw new UncheckedIOException("audit line not written (" + e.getMessage() + "); nothing was done", e);
            }
            lastId = stored.id();
        }
        try {
            journal.sync(ticket);   // outside the lock: concurrent appenders share one fsync
        } catch (IOException e) {
            throw new UncheckedIOException("audit line not made durable (" + e.getMessage() + "); nothing was done", e);
        }
        synchronized (this) {
            if (memory.size() == MEMORY) {
                memory.removeFirst();
            }
            memory.addLast(stored);
        }
        if (!stored.step().equals(Step.REQUEST.label()) || stored.result() == Result.REJECTED) {
            counter(stored.step().equals(Step.REQUEST.label()) ? stored.action() : stored.step(), stored.result()).increment();
        }
        try {
            events.append(AgentEvent.of(stored.gpu(), stored.uuid(), AgentEvent.ACTION, "recovery",
                    stored.step() + ":" + stored.result().label(), describe(stored)));
        } catch (RuntimeException e) {
            // The audit log is the durable record; the event history is a view of it.
            LOG.errorf("audit line %d is durable but could not be added to the event log: %s", stored.id(), e.getMessage());
        }
        return stored;
    }

    /** The newest {@code limit} lines that match, oldest first. */
    public synchronized List<ActionRecord> latest(Predicate<ActionRecord> filter, int limit) {
        List<ActionRecord> out = new ArrayList<>();
        for (Iterator<ActionRecord> it = memory.descendingIterator(); it.hasNext() && out.size() < limit; ) {
            ActionRecord r = it.next();
            if (filter.test(r)) {
                out.add(r);
            }
        }
        Collections.reverse(out);
        return out;
    }

    /** Every line of one action still in memory, oldest first. */
    public synchronized List<ActionRecord> of(String actionId) {
        return memory.stream().filter(r -> r.actionId().equals(actionId)).toList();
    }

    static String describe(ActionRecord r) {
        StringBuilder s = new StringBuilder();
        s.append(r.action()).append(' ');
        if (!r.step().equals(Step.REQUEST.label())) {
            s.append("step ").append(r.step()).append(' ');
        }
        s.append(r.result().label());
        if (r.gpu() != null) {
            s.append(" on GPU ").append(r.gpu()).append(" (").append(r.uuid()).append(')');
        }
        if (r.durationMs() != null) {
            s.append(" in ").append(r.durationMs()).append(" ms");
        }
        s.append(" [").append(r.trigger()).append("; action ").append(r.actionId()).append(']');
        if (r.reason() != null && !r.reason().isBlank()) {
            s.append(": ").append(r.reason());
        }
        if (r.detail() != null && !r.detail().isBlank()) {
            s.append(" -- ").append(r.detail());
        }
        return s.toString();
    }

    private Counter counter(String action, Result result) {
        return Counter.builder(ACTIONS_TOTAL).description("Recovery action steps, by step and outcome (audit log lines).")
                .tag("action", action).tag("result", result.label()).register(registry);
    }
}
