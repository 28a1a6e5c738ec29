package io.gpuagent.agent.journal;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * The event history: every event is written durably to {@code <stateDir>/events.jsonl} and the newest
 * {@code memoryCapacity} are kept in memory for queries and for subscribers (the SSE stream).
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

    private static final System.Logger LOG = System.getLogger(EventLog.class.getName());

    private final JsonlJournal<AgentEvent> journal;
    private final int capacity;
    private final long compactAtLines;
    private final List<Subscription> subscribers = new CopyOnWriteArrayList<>();

    // guarded by this
    private final ArrayDeque<AgentEvent> memory;
    private final ArrayDeque<AgentEvent> pending = new ArrayDeque<>();   // written, fsync not confirmed yet
    private long lastId;
    private long publishedId;   // lastId minus the events still pending: what readers can see
    private long nextCompactAt;
    private boolean closed;

    /** Opens the log, compacting the file when it grows past 4 x memoryCapacity lines. */
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
        if (memoryCapacity < 1 || compactAtLines <= memoryCapacity) {
            throw new IllegalArgumentException("need memoryCapacity >= 1 and compactAtLines > memoryCapacity, got "
                    + memoryCapacity + " and " + compactAtLines);
        }
        this.capacity = memoryCapacity;
        this.compactAtLines = compactAtLines;
        this.nextCompactAt = compactAtLines;
        this.memory = new ArrayDeque<>(Math.min(memoryCapacity, 1 << 16));
        try {
            this.journal = JsonlJournal.open(stateDir.resolve(FILE_NAME), AgentEvent.class, mapper, e -> {
                remember(e);
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
                AgentEvent e = Objects.requireNonNull(event, "event").withId(lastId + 1);
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
     * Events with id greater than {@code afterId}, optionally only those of one GPU (by index and/or UUID),
     * oldest first, at most {@code limit}: the earliest ones after the cursor, so paging on with the last id
     * returned never skips an event. Node-level events do not match a GPU filter.
     */
    public synchronized List<AgentEvent> since(long afterId, Integer gpu, String uuid, int limit) {
        return select(e -> e.id() > afterId && matches(e, gpu, uuid), limit);
    }

    /**
     * One page of a reader that walks the log with a cursor (the event stream): the matching events after
     * {@code afterId}, oldest first, at most {@code limit}, and {@code scannedTo}, the id up to which every
     * published event was looked at. A reader resumes after {@code scannedTo}, so a filter that matches
     * nothing still moves it forward. {@code oldestId} tells a reader whether it fell out of the history.
     */
    public synchronized Page page(long afterId, Integer gpu, String uuid, int limit) {
        checkLimit(limit);
        List<AgentEvent> out = new ArrayList<>();
        long scannedTo = afterId;
        // A reader at the live edge is a few events behind: walk from the newest end, not over the whole history.
        Iterator<AgentEvent> it = memory.isEmpty() || memory.peekLast().id() - afterId < memory.size() / 2
                ? tail(afterId) : memory.iterator();
        while (it.hasNext() && out.size() < limit) {
            AgentEvent e = it.next();
            if (e.id() <= afterId) {
                continue;
            }
            scannedTo = e.id();
            if (matches(e, gpu, uuid)) {
                out.add(e);
            }
        }
        return new Page(List.copyOf(out), scannedTo, oldestId());
    }

    /** What {@link #page} found. */
    public record Page(List<AgentEvent> events, long scannedTo, long oldestId) { }

    private Iterator<AgentEvent> tail(long afterId) {
        ArrayDeque<AgentEvent> newer = new ArrayDeque<>();
        for (Iterator<AgentEvent> it = memory.descendingIterator(); it.hasNext(); ) {
            AgentEvent e = it.next();
            if (e.id() <= afterId) {
                break;
            }
            newer.addFirst(e);
        }
        return newer.iterator();
    }

    /** Events with time strictly after {@code after} (all when null), otherwise as {@link #since(long, Integer, String, int)}. */
    public synchronized List<AgentEvent> since(Instant after, Integer gpu, String uuid, int limit) {
        return select(e -> (after == null || (e.time() != null && e.time().isAfter(after))) && matches(e, gpu, uuid), limit);
    }

    /** The newest {@code limit} matching events, oldest first (newest last). */
    public synchronized List<AgentEvent> latest(Integer gpu, String uuid, int limit) {
        checkLimit(limit);
        ArrayList<AgentEvent> out = new ArrayList<>();
        for (Iterator<AgentEvent> it = memory.descendingIterator(); it.hasNext() && out.size() < limit; ) {
            AgentEvent e = it.next();
            if (matches(e, gpu, uuid)) {
                out.add(e);
            }
        }
        Collections.reverse(out);
        return out;
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
        return memory.isEmpty() ? publishedId + 1 : memory.peekFirst().id();
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
        for (AgentEvent e : memory) {
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

    /** Rewrites the file to the events served (memory): those pending when it failed were never acknowledged. */
    @Override
    public synchronized void reopen() throws IOException {
        journal.reopen(new ArrayList<>(memory));
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
        remember(e);
        publishedId = e.id();
        for (Subscription s : subscribers) {
            if (s.active) {
                s.deliver(e);
            }
        }
    }

    private void remember(AgentEvent e) {
        if (memory.size() == capacity) {
            memory.removeFirst();
        }
        memory.addLast(e);
    }

    private void maybeCompact() {
        if (journal.lineCount() <= nextCompactAt) {
            return;
        }
        // Events still waiting for their fsync are in the file and their appenders will acknowledge them:
        // they must survive the compaction (the new file is fsynced, which makes them durable).
        List<AgentEvent> keep = new ArrayList<>(memory.size() + pending.size());
        keep.addAll(memory);
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

    private List<AgentEvent> select(Predicate<AgentEvent> filter, int limit) {
        checkLimit(limit);
        List<AgentEvent> out = new ArrayList<>();
        for (AgentEvent e : memory) {
            if (filter.test(e)) {
                out.add(e);
                if (out.size() == limit) {
                    break;
                }
            }
        }
        return out;
    }

    private static boolean matches(AgentEvent e, Integer gpu, String uuid) {
        return (gpu == null || gpu.equals(e.gpu())) && (uuid == null || uuid.equals(e.uuid()));
    }

    private static void checkLimit(int limit) {
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be at least 1, got " + limit);
        }
    }
}
