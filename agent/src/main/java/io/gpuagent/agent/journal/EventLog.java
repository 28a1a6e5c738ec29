package io.gpuagent.agent.journal;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.UnaryOperator;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * The event history: every event is written durably to {@code <stateDir>/events.jsonl} and the newest
 * {@code memoryCapacity} are kept in memory for queries and for subscribers (the SSE stream). Fatal events
 * (see {@link #fatalStateChange}; the agent adds XIDs classed fatal or lost) that fall out of that window are
 * kept apart, the newest {@link #FATAL_KEPT} of them, so that a burst of other events cannot evict the event
 * that /health still names. Queries see them in id order before the window; {@link #oldestId()} still says
 * where the complete history starts.
 *
 * <p>Guarantees: ids increase by one per event and continue after a restart; {@link #append} returns only
 * after the event is fsynced; queries and subscribers only ever see durable events; a subscriber gets every
 * event after its starting id exactly once, in id order, even while other threads append.
 *
 * <p>Listeners run on the appending thread while the log's lock is held (that is what makes delivery
 * ordered and gap-free), so they must be quick and must not block: hand the event off (a queue, an
 * executor, a non-blocking write) and return. They must not call back into this log. A listener that
 * throws is unsubscribed.
 */
public final class EventLog implements AutoCloseable, JournalWatch.Watched {

    public static final String FILE_NAME = "events.jsonl";

    /** Fatal events kept once they fall out of the newest {@code memoryCapacity}. */
    public static final int FATAL_KEPT = 64;

    private static final System.Logger LOG = System.getLogger(EventLog.class.getName());

    private final JsonlJournal<AgentEvent> journal;
    private final int capacity;
    private final long compactAtLines;
    private final List<Subscription> subscribers = new CopyOnWriteArrayList<>();

    // guarded by this
    private final EventHistory history;
    private final ArrayDeque<AgentEvent> pending = new ArrayDeque<>();   // written, fsync not confirmed yet
    private long lastId;
    private long publishedId;   // lastId minus the events still pending: what readers can see
    private long nextCompactAt;
    private boolean closed;

    /** Opens the log, compacting the file when it grows past 4 x memoryCapacity lines. */
    private volatile UnaryOperator<AgentEvent> annotator = UnaryOperator.identity();

    public EventLog(Path stateDir, int memoryCapacity, ObjectMapper mapper) {
        this(stateDir, memoryCapacity, 4L * memoryCapacity, mapper);
    }

    /**
     * Opens the log: replays {@code stateDir/events.jsonl} (newest {@code memoryCapacity} into memory) and
     * compacts the file to the newest {@code memoryCapacity} events whenever it exceeds
     * {@code compactAtLines} lines.
     */
    public EventLog(Path stateDir, int memoryCapacity, long compactAtLines, ObjectMapper mapper) {
        this(stateDir, memoryCapacity, compactAtLines, mapper, JsonlJournal.Disk.REAL, JsonlJournal.OnCorruption.REFUSE);
    }

    /** On a given {@link JsonlJournal.Disk} (tests make it fail and heal), damaged lines handled as told. */
    EventLog(Path stateDir, int memoryCapacity, long compactAtLines, ObjectMapper mapper, JsonlJournal.Disk disk,
             JsonlJournal.OnCorruption onCorruption) {
        this(stateDir, memoryCapacity, compactAtLines, mapper, disk, onCorruption, EventLog::fatalStateChange);
    }

    /** {@code fatal} says which events are kept when they fall out of the newest {@code memoryCapacity}. */
    public EventLog(Path stateDir, int memoryCapacity, long compactAtLines, ObjectMapper mapper, JsonlJournal.Disk disk,
                    JsonlJournal.OnCorruption onCorruption, Predicate<AgentEvent> fatal) {
        if (memoryCapacity < 1 || compactAtLines <= memoryCapacity) {
            throw new IllegalArgumentException("need memoryCapacity >= 1 and compactAtLines > memoryCapacity, got "
                    + memoryCapacity + " and " + compactAtLines);
        }
        this.capacity = memoryCapacity;
        this.compactAtLines = compactAtLines;
        this.nextCompactAt = compactAtLines;
        this.history = new EventHistory(memoryCapacity, fatal);
        try {
            this.journal = JsonlJournal.open(stateDir.resolve(FILE_NAME), AgentEvent.class, mapper, e -> {
                history.remember(e);
                lastId = Math.max(lastId, e.id());
                publishedId = lastId;
            }, disk, onCorruption);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the event log: " + e.getMessage(), e);
        }
        synchronized (this) {
            maybeCompact();
        }
    }

    /**
     * Assigns the next id (and the current time if {@code event.time()} is null), writes the event and
     * fsyncs it, then makes it visible to queries and subscribers. Returns the stored event.
     *
     * @throws UncheckedIOException if the event could not be made durable; it is then not visible either
     */
    public AgentEvent append(AgentEvent event) {
        return appendAll(List.of(Objects.requireNonNull(event, "event"))).getFirst();
    }

    /**
     * Adds what other parts of the agent know about an event's device before it is stored (the pods holding it);
     * called under this log's lock for every appended event, so it must only read published state.
     */
    public void annotateWith(UnaryOperator<AgentEvent> newAnnotator) {
        annotator = Objects.requireNonNull(newAnnotator, "annotator");
    }

    /** False once the file failed (events are refused until the agent restarts) or after close. */
    public boolean usable() {
        return journal.usable();
    }

    /**
     * {@link #append} for several events that belong together (an XID and the state change it caused):
     * consecutive ids, one fsync for all of them, visible together. Returns the stored events in order.
     */
    public List<AgentEvent> appendAll(List<AgentEvent> events) {
        if (events.isEmpty()) {
            return List.of();
        }
        List<AgentEvent> stored = new ArrayList<>(events.size());
        long ticket = 0;
        synchronized (this) {
            if (closed) {
                throw new IllegalStateException("event log is closed");
            }
            Instant now = Instant.now();
            for (AgentEvent event : events) {
                AgentEvent e = annotator.apply(Objects.requireNonNull(event, "event")).withId(lastId + 1);
                if (e.time() == null) {
                    e = e.withTime(now);
                }
                try {
                    ticket = journal.write(e);   // under the lock: file order is id order
                } catch (IOException x) {
                    // The ones written before stay in the file (and will replay) but were never acknowledged;
                    // they are published with the next successful fsync, so ids stay gap-free in memory too.
                    throw new UncheckedIOException("event not recorded: " + x.getMessage(), x);
                }
                lastId = e.id();
                pending.addLast(e);
                stored.add(e);
            }
        }
        long last = stored.getLast().id();
        try {
            journal.sync(ticket);   // outside the lock: concurrent appenders share one fsync
        } catch (IOException e) {
            synchronized (this) {
                pending.removeAll(stored);
            }
            throw new UncheckedIOException("event not recorded durably: " + e.getMessage(), e);
        }
        synchronized (this) {
            // Our fsync covered every event written before ours too; publish them all, in id order, so that
            // whichever appender gets here first delivers for the others.
            while (!pending.isEmpty() && pending.peekFirst().id() <= last) {
                publish(pending.removeFirst());
            }
            if (!closed) {
                maybeCompact();
            }
        }
        return List.copyOf(stored);
    }

    /**
     * Events with id greater than {@code afterId}, optionally only those of one GPU (by index and/or UUID; its
     * MIG devices' included), oldest first, at most {@code limit}: the earliest ones after the cursor, so paging
     * on with the last id returned never skips an event. Node-level events do not match a GPU filter.
     */
    public List<AgentEvent> since(long afterId, Integer gpu, String uuid, int limit) {
        return since(afterId, EventFilter.of(gpu, uuid), limit);
    }

    /** As {@link #since(long, Integer, String, int)}, for the events {@code filter} matches. */
    public synchronized List<AgentEvent> since(long afterId, EventFilter filter, int limit) {
        return history.select(e -> e.id() > afterId && filter.matches(e), limit);
    }

    /**
     * One page of a reader that walks the log with a cursor (the event stream): the matching events after
     * {@code afterId}, oldest first, at most {@code limit}, and {@code scannedTo}, the id up to which every
     * published event was looked at. A reader resumes after {@code scannedTo}, so a filter that matches
     * nothing still moves it forward. {@code oldestId} tells a reader whether it fell out of the history.
     */
    public synchronized Page page(long afterId, EventFilter filter, int limit) {
        return history.page(afterId, filter, limit, oldestId());
    }

    /** What {@link #page} found. */
    public record Page(List<AgentEvent> events, long scannedTo, long oldestId) { }

    /** Events with time strictly after {@code after} (all when null), otherwise as {@link #since(long, Integer, String, int)}. */
    public List<AgentEvent> since(Instant after, Integer gpu, String uuid, int limit) {
        return since(after, EventFilter.of(gpu, uuid), limit);
    }

    /** As {@link #since(Instant, Integer, String, int)}, for the events {@code filter} matches. */
    public synchronized List<AgentEvent> since(Instant after, EventFilter filter, int limit) {
        return history.select(e -> (after == null || (e.time() != null && e.time().isAfter(after)))
                && filter.matches(e), limit);
    }

    /** The newest {@code limit} matching events, oldest first (newest last). */
    public List<AgentEvent> latest(Integer gpu, String uuid, int limit) {
        return latest(EventFilter.of(gpu, uuid), limit);
    }

    /** The newest {@code limit} events {@code filter} matches, oldest first (newest last). */
    public synchronized List<AgentEvent> latest(EventFilter filter, int limit) {
        return history.latest(Long.MAX_VALUE, filter, limit);
    }

    /** The newest {@code limit} matching events with an id below {@code beforeId}, oldest first: a page walking back. */
    public List<AgentEvent> before(long beforeId, Integer gpu, String uuid, int limit) {
        return before(beforeId, EventFilter.of(gpu, uuid), limit);
    }

    /** As {@link #before(long, Integer, String, int)}, for the events {@code filter} matches. */
    public synchronized List<AgentEvent> before(long beforeId, EventFilter filter, int limit) {
        return history.latest(beforeId, filter, limit);
    }

    /** The id of the newest durable-or-in-flight event, 0 when none was ever recorded. */
    public synchronized long lastId() {
        return lastId;
    }

    /**
     * The id of the oldest event still in memory (one past the newest published event when memory is empty).
     * A client resuming after {@code afterId} missed events when {@code afterId + 1 < oldestId()}.
     */
    public synchronized long oldestId() {
        // Not lastId + 1: with events in flight that would tell a reader at the live edge it fell out of the history.
        return history.oldestInMemory().orElse(publishedId + 1);
    }

    /**
     * Delivers every event in memory with id greater than {@code afterId} (on this thread, before returning),
     * then every new event as it becomes durable: in id order, no gaps, no duplicates. See the class comment
     * for what a listener may do.
     */
    public synchronized Subscription subscribe(long afterId, Consumer<? super AgentEvent> listener) {
        Objects.requireNonNull(listener, "listener");
        if (closed) {
            throw new IllegalStateException("event log is closed");
        }
        Subscription s = new Subscription(listener);
        for (AgentEvent e : history.held()) {
            if (e.id() > afterId && !s.deliver(e)) {
                return s;
            }
        }
        subscribers.add(s);
        return s;
    }

    /** Stops delivery; once this returns the listener is not called again. Idempotent. */
    public synchronized void unsubscribe(Subscription subscription) {
        subscription.active = false;
        subscribers.remove(subscription);
    }

    @Override
    public Optional<String> failure() {
        return journal.failure();
    }

    /** Rewrites the file to the events served (memory and kept fatal ones): those pending when it failed were never acknowledged. */
    @Override
    public synchronized void reopen() throws IOException {
        journal.reopen(history.copy(0));
        nextCompactAt = compactAtLines;
    }

    @Override
    public void close() {
        synchronized (this) {
            closed = true;
            subscribers.forEach(s -> s.active = false);
            subscribers.clear();
        }
        journal.close();   // waits for an fsync in flight
    }

    /** A live subscription; closing it unsubscribes. */
    public final class Subscription implements AutoCloseable {
        private final Consumer<? super AgentEvent> listener;
        private volatile boolean active = true;

        private Subscription(Consumer<? super AgentEvent> listener) {
            this.listener = listener;
        }

        public boolean isActive() {
            return active;
        }

        @Override
        public void close() {
            unsubscribe(this);
        }

        /** False when the listener failed and was dropped. Caller holds the log's lock. */
        private boolean deliver(AgentEvent e) {
            try {
                listener.accept(e);
                return true;
            } catch (RuntimeException ex) {
                LOG.log(System.Logger.Level.WARNING, "event listener failed on event " + e.id()
                        + " and was unsubscribed: " + ex);
                active = false;
                subscribers.remove(this);
                return false;
            }
        }
    }

    private void publish(AgentEvent e) {
        history.remember(e);
        publishedId = e.id();
        for (Subscription s : subscribers) {
            if (s.active) {
                s.deliver(e);
            }
        }
    }

    /**
     * A GPU (or the node) turned UNHEALTHY or LOST: what /health names until it is cleared. Fatal whatever the
     * agent's configuration; the agent adds XIDs classed fatal or lost ({@code EventLogProducer}).
     */
    public static boolean fatalStateChange(AgentEvent e) {
        return AgentEvent.STATE.equals(e.kind()) && ("UNHEALTHY".equals(e.state()) || "LOST".equals(e.state()));
    }

    private void maybeCompact() {
        if (journal.lineCount() <= nextCompactAt) {
            return;
        }
        // Events still waiting for their fsync are in the file and their appenders will acknowledge them:
        // they must survive the compaction (the new file is fsynced, which makes them durable).
        List<AgentEvent> keep = history.copy(pending.size());
        keep.addAll(pending);
        try {
            journal.compact(keep);
            nextCompactAt = compactAtLines;
        } catch (IOException e) {
            // Not fatal for the append that triggered it; try again after another batch of events.
            nextCompactAt = journal.lineCount() + capacity;
            LOG.log(System.Logger.Level.WARNING, "compacting " + journal.file() + " failed: " + e.getMessage());
        }
    }
}
