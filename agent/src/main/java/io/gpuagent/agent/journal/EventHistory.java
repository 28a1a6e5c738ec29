package io.gpuagent.agent.journal;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * What {@link EventLog} holds in memory and answers queries from: the newest {@code capacity} published events,
 * and apart from them the newest {@link EventLog#FATAL_KEPT} fatal events that fell out of that window (so a
 * burst of other events cannot evict the event that /health still names). Not thread-safe: the log calls it
 * under its own lock, which is also what keeps ids, publication and these deques in step.
 */
final class EventHistory {

    private final int capacity;
    private final Predicate<AgentEvent> fatal;
    private final ArrayDeque<AgentEvent> memory;
    private final ArrayDeque<AgentEvent> kept = new ArrayDeque<>();   // fatal, older than memory, id order

    EventHistory(int capacity, Predicate<AgentEvent> fatal) {
        this.capacity = capacity;
        this.fatal = Objects.requireNonNull(fatal, "fatal");
        this.memory = new ArrayDeque<>(Math.min(capacity, 1 << 16));
    }

    /** Adds the newest event; the oldest one in memory leaves it, and is kept apart when it is fatal. */
    void remember(AgentEvent e) {
        if (memory.size() == capacity) {
            AgentEvent evicted = memory.removeFirst();
            if (fatal.test(evicted)) {
                if (kept.size() == EventLog.FATAL_KEPT) {
                    kept.removeFirst();
                }
                kept.addLast(evicted);
            }
        }
        memory.addLast(e);
    }

    /** Every event held, in id order: the kept fatal ones (all older than memory), then memory. */
    Iterable<AgentEvent> held() {
        return this::all;
    }

    /** The id of the oldest event in memory, empty when none was published yet. */
    OptionalLong oldestInMemory() {
        return memory.isEmpty() ? OptionalLong.empty() : OptionalLong.of(memory.peekFirst().id());
    }

    /** Every event held, in id order, as a list of its own with room for {@code extra} more (the journal writes it). */
    List<AgentEvent> copy(int extra) {
        List<AgentEvent> all = new ArrayList<>(kept.size() + memory.size() + extra);
        all.addAll(kept);
        all.addAll(memory);
        return all;
    }

    /** The first {@code limit} events held that pass {@code filter}, in id order. */
    List<AgentEvent> select(Predicate<AgentEvent> filter, int limit) {
        checkLimit(limit);
        List<AgentEvent> out = new ArrayList<>();
        for (Iterator<AgentEvent> it = all(); it.hasNext(); ) {
            AgentEvent e = it.next();
            if (filter.test(e)) {
                out.add(e);
                if (out.size() == limit) {
                    break;
                }
            }
        }
        return out;
    }

    /** {@link EventLog#page}, with the log's {@code oldestId} to hand back. */
    EventLog.Page page(long afterId, EventFilter filter, int limit, long oldestId) {
        checkLimit(limit);
        List<AgentEvent> out = new ArrayList<>();
        long scannedTo = afterId;
        // A reader at the live edge is a few events behind: walk from the newest end, not over the whole history.
        Iterator<AgentEvent> it = memory.isEmpty() || memory.peekLast().id() - afterId < memory.size() / 2
                ? tail(afterId) : all();
        while (it.hasNext() && out.size() < limit) {
            AgentEvent e = it.next();
            if (e.id() <= afterId) {
                continue;
            }
            scannedTo = e.id();
            if (filter.matches(e)) {
                out.add(e);
            }
        }
        return new EventLog.Page(List.copyOf(out), scannedTo, oldestId);
    }

    /** The newest {@code limit} matching events with an id below {@code beforeId}, oldest first (newest last). */
    List<AgentEvent> latest(long beforeId, EventFilter filter, int limit) {
        checkLimit(limit);
        ArrayList<AgentEvent> out = new ArrayList<>();
        for (ArrayDeque<AgentEvent> part : List.of(memory, kept)) {   // newest first: memory, then the older kept
            for (Iterator<AgentEvent> it = part.descendingIterator(); it.hasNext() && out.size() < limit; ) {
                AgentEvent e = it.next();
                if (e.id() < beforeId && filter.matches(e)) {
                    out.add(e);
                }
            }
        }
        Collections.reverse(out);
        return out;
    }

    /** The kept fatal ones (all older than memory), then memory. */
    private Iterator<AgentEvent> all() {
        return Stream.concat(kept.stream(), memory.stream()).iterator();
    }

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

    private static void checkLimit(int limit) {
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be at least 1, got " + limit);
        }
    }
}
