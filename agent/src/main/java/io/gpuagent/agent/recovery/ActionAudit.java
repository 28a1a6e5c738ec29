package io.gpuagent.agent.recovery;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.agent.AgentConfig;
import io.gpuagent.agent.AgentRegistry;
import io.gpuagent.agent.journal.AgentEvent;
import io.gpuagent.agent.journal.EventLog;
import io.gpuagent.agent.journal.JournalConfig;
import io.gpuagent.agent.journal.JournalWatch;
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
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Predicate;
import org.jboss.logging.Logger;

/**
 * The audit log {@code state-dir/actions.jsonl}: append-only, one line per step, each fsynced before
 * {@link #append} returns (so nothing acts, and no API answers 2xx, before its line is durable). The newest
 * {@code memory} lines are kept in memory for {@code GET /v1/actions}. Refused requests and observe-mode
 * recommendations are not bounded by any rail, so the file is compacted once it passes twice {@code memory}
 * lines: to those newest lines plus what the rails are rebuilt from ({@link ActionRetention}); replay at start
 * holds no more than that either. Every line also goes to the event log as an {@link AgentEvent#ACTION} event
 * and counts in {@code gpu_agent_actions_total{action,result}}.
 */
@ApplicationScoped
public class ActionAudit implements JournalWatch.Watched {

    public static final String FILE_NAME = "actions.jsonl";
    static final int MEMORY = 10_000;
    static final String ACTIONS_TOTAL = "gpu_agent.actions";

    private static final Logger LOG = Logger.getLogger(ActionAudit.class);

    private final JsonlJournal<ActionRecord> journal;
    private final EventLog events;
    private final Clock clock;
    private final MeterRegistry registry;
    private final int capacity;
    private final ArrayDeque<ActionRecord> memory = new ArrayDeque<>();    // guarded by this
    private final ArrayDeque<ActionRecord> pending = new ArrayDeque<>();   // guarded by this: written, not yet synced
    private final ActionRetention retention;                               // guarded by this
    private final List<ActionRecord> replayed;
    private long lastId;   // guarded by this
    private long lines;    // guarded by this: replayed at start
    private long compactAt;   // guarded by this

    @Inject
    public ActionAudit(AgentConfig config, RecoveryConfig recovery, ObjectMapper mapper, EventLog events,
                       AgentRegistry agentRegistry, JournalWatch watch, JournalConfig journal, Clock clock) {
        this(config.stateDir(), mapper, events, agentRegistry.registry(), MEMORY, recovery.resetWindow(),
                journal.onCorruption(), clock);
        watch.register(FILE_NAME, this);
    }

    ActionAudit(Path stateDir, ObjectMapper mapper, EventLog events, MeterRegistry registry) {
        this(stateDir, mapper, events, registry, MEMORY, Duration.ofHours(1), JsonlJournal.OnCorruption.REFUSE);
    }

    ActionAudit(Path stateDir, ObjectMapper mapper, EventLog events, MeterRegistry registry, int memory,
                Duration resetWindow, JsonlJournal.OnCorruption onCorruption) {
        this(stateDir, mapper, events, registry, memory, resetWindow, onCorruption, Clock.systemUTC());
    }

    ActionAudit(Path stateDir, ObjectMapper mapper, EventLog events, MeterRegistry registry, int memory,
                Duration resetWindow, JsonlJournal.OnCorruption onCorruption, Clock clock) {
        this.clock = clock;
        this.events = events;
        this.registry = registry;
        this.capacity = memory;
        this.compactAt = 2L * memory;
        this.retention = new ActionRetention(resetWindow);
        try {
            this.journal = JsonlJournal.open(stateDir.resolve(FILE_NAME), ActionRecord.class, mapper, r -> {
                synchronized (this) {
                    remember(r);
                    retention.offer(r);
                    lastId = Math.max(lastId, r.id());
                    lines++;
                }
            }, JsonlJournal.Disk.REAL, onCorruption);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the audit log " + stateDir.resolve(FILE_NAME) + " ("
                    + e.getMessage() + "); the agent needs a writable gpu-agent.state-dir", e);
        }
        synchronized (this) {
            this.replayed = retention.lines(clock.instant());
            maybeCompact();
        }
        // Zero-valued series for the common outcomes, so rate() and alerts see them from the start.
        for (Step s : List.of(Step.RESET, Step.DRAIN, Step.REQUEST_REBOOT)) {
            for (Result r : List.of(Result.SUCCEEDED, Result.FAILED)) {
                counter(s.label(), r);
            }
        }
        LOG.infof("audit log %s: %d line(s), %d of them needed by the rails", journal.file(), lines, replayed.size());
    }

    void close(@Observes ShutdownEvent event) {
        journal.close();
    }

    /**
     * The lines escalation, rate limits, cordons, inspections and power caps are rebuilt from, as the file
     * held them at start, oldest first ({@link ActionRetention}).
     */
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
            stored = line.withId(lastId + 1, clock.instant());
            try {
                ticket = journal.write(stored);
            } catch (IOException e) {
                throw new UncheckedIOException("audit line not written (" + e.getMessage() + "); nothing was done", e);
            }
            lastId = stored.id();
            pending.addLast(stored);
        }
        try {
            journal.sync(ticket);   // outside the lock: concurrent appenders share one fsync
        } catch (IOException e) {
            synchronized (this) {
                pending.remove(stored);
            }
            throw new UncheckedIOException("audit line not made durable (" + e.getMessage() + "); nothing was done", e);
        }
        synchronized (this) {
            pending.remove(stored);
            remember(stored);
            retention.offer(stored);
            maybeCompact();
        }
        if (stored.step() != Step.REQUEST || stored.result() == Result.REJECTED) {
            counter(stored.step() == Step.REQUEST ? stored.action().label() : stored.step().label(), stored.result())
                    .increment();
        }
        try {
            events.append(AgentEvent.of(stored.gpu(), stored.uuid(), AgentEvent.ACTION, "recovery",
                    stored.step().label() + ":" + stored.result().label(), describe(stored)));
        } catch (RuntimeException e) {
            // The audit log is the durable record; the event history is a view of it.
            LOG.errorf("audit line %d is durable but could not be added to the event log: %s", stored.id(), e.getMessage());
        }
        return stored;
    }

    @Override
    public Optional<String> failure() {
        return journal.failure();
    }

    /** Rewrites the file to the acknowledged lines: the newest ones and what the rails need. */
    @Override
    public synchronized void reopen() throws IOException {
        TreeMap<Long, ActionRecord> keep = new TreeMap<>();
        retention.lines(clock.instant()).forEach(r -> keep.put(r.id(), r));
        memory.forEach(r -> keep.put(r.id(), r));
        journal.reopen(List.copyOf(keep.values()));
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

    private void remember(ActionRecord r) {
        if (memory.size() == capacity) {
            memory.removeFirst();
        }
        memory.addLast(r);
    }

    /** Caller holds this: no line can be written between choosing what to keep and the swap. */
    private void maybeCompact() {
        if (journal.lineCount() <= compactAt) {
            return;
        }
        TreeMap<Long, ActionRecord> keep = new TreeMap<>();
        retention.lines(clock.instant()).forEach(r -> keep.put(r.id(), r));
        memory.forEach(r -> keep.put(r.id(), r));
        pending.forEach(r -> keep.put(r.id(), r));   // written, their appenders will acknowledge them
        long before = journal.lineCount();
        try {
            journal.compact(List.copyOf(keep.values()));
            compactAt = Math.max(2L * capacity, keep.size() + (long) capacity);
            LOG.infof("audit log %s compacted from %d to %d lines (the newest %d and what the rails need)",
                    journal.file(), before, keep.size(), capacity);
        } catch (IOException e) {
            compactAt = journal.lineCount() + capacity;   // not on every append: after another batch
            LOG.warnf("compacting the audit log %s failed (%s); it grows until the next attempt; check the disk",
                    journal.file(), e.getMessage());
        }
    }

    static String describe(ActionRecord r) {
        StringBuilder s = new StringBuilder();
        s.append(r.action().label()).append(' ');
        if (r.step() != Step.REQUEST) {
            s.append("step ").append(r.step().label()).append(' ');
        }
        s.append(r.result().label());
        if (r.gpu() != null) {
            s.append(" on GPU ").append(r.gpu()).append(" (").append(r.uuid()).append(')');
        }
        if (r.durationMs() != null) {
            s.append(" in ").append(r.durationMs()).append(" ms");
        }
        s.append(" [").append(r.trigger().text()).append("; action ").append(r.actionId()).append(']');
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
