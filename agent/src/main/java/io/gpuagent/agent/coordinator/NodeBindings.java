package io.gpuagent.agent.coordinator;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.agent.journal.JsonlJournal;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Which agentUrl each node name is bound to, in memory and in {@code state-dir/node-bindings.jsonl}: a binding
 * is fsync'd before the heartbeat that made it is answered, and an operator's {@code forget} before its 204,
 * so a restarted coordinator still refuses to move a name (and never sends a node's credential to another URL).
 * At most {@link #MAX} names; the file is compacted to the live bindings when it holds far more lines.
 */
public final class NodeBindings implements AutoCloseable {

    public static final String FILE_NAME = "node-bindings.jsonl";
    /** More nodes than any cluster this coordinator serves; each needs a credential file anyway. */
    static final int MAX = 10_000;
    private static final int SLACK = 256;

    /** One line: a name bound to a URL, or forgotten. */
    public record Entry(String op, Instant at, String node, String agentUrl) {
        static final String BOUND = "bound";
        static final String FORGOTTEN = "forgotten";
    }

    /** The binding table is full. */
    public static final class Full extends RuntimeException {
        Full(String node) {
            super("the coordinator already binds " + MAX + " node names; node " + node + " cannot register until an "
                    + "operator forgets nodes that are gone (POST /v1/nodes/{name}/forget)");
        }
    }

    private final JsonlJournal<Entry> journal;
    private final Clock clock;
    private final Map<String, String> bound = new LinkedHashMap<>();   // guarded by this

    public NodeBindings(Path stateDir, ObjectMapper mapper, JsonlJournal.OnCorruption onCorruption, Clock clock)
            throws IOException {
        this.clock = clock;
        this.journal = JsonlJournal.open(stateDir.resolve(FILE_NAME), Entry.class, mapper, this::replay,
                JsonlJournal.Disk.REAL, onCorruption);
    }

    private void replay(Entry e) {
        if (e.node() == null || e.op() == null) {
            return;
        }
        switch (e.op()) {
            case Entry.BOUND -> {
                if (e.agentUrl() != null) {
                    bound.put(e.node(), e.agentUrl());
                }
            }
            case Entry.FORGOTTEN -> bound.remove(e.node());
            default -> { }   // a newer coordinator's op: ignore rather than lose the rest
        }
    }

    public synchronized Optional<String> get(String node) {
        return Optional.ofNullable(bound.get(node));
    }

    /**
     * Binds {@code node} to {@code agentUrl} durably unless it is bound already; returns the URL it is bound to.
     *
     * @throws Full        when {@link #MAX} names are bound
     * @throws IOException when the journal could not record it (nothing is bound then)
     */
    public synchronized String bind(String node, String agentUrl) throws IOException {
        String was = bound.get(node);
        if (was != null) {
            return was;
        }
        if (bound.size() >= MAX) {
            throw new Full(node);
        }
        journal.append(new Entry(Entry.BOUND, clock.instant(), node, agentUrl));
        bound.put(node, agentUrl);
        return agentUrl;
    }

    /** Forgets the binding durably; false when there was none. */
    public synchronized boolean forget(String node) throws IOException {
        String was = bound.get(node);
        if (was == null) {
            return false;
        }
        journal.append(new Entry(Entry.FORGOTTEN, clock.instant(), node, was));
        bound.remove(node);
        if (journal.lineCount() > Math.max(2L * bound.size(), bound.size() + SLACK)) {
            Instant now = clock.instant();
            journal.compact(bound.entrySet().stream().map(b -> new Entry(Entry.BOUND, now, b.getKey(), b.getValue()))
                    .toList());
        }
        return true;
    }

    public synchronized int size() {
        return bound.size();
    }

    public synchronized long lines() {
        return journal.lineCount();
    }

    @Override
    public void close() {
        journal.close();
    }
}
