package io.gpuagent.agent.lease;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.agent.journal.JsonlJournal;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * {@code state-dir/leases.jsonl}: every grant, heartbeat, release and expiry, each fsynced before it is
 * acknowledged ({@link JsonlJournal}). Replaying it gives the live leases and the highest fencing token;
 * {@link #compact} rewrites it to the live leases when it grows.
 */
final class LeaseJournal implements AutoCloseable {

    static final String FILE_NAME = "leases.jsonl";
    private static final Logger LOG = Logger.getLogger(LeaseJournal.class);

    /** What a replay found: live leases in grant order (some may have expired since) and the highest token. */
    record Restored(Map<String, Lease> leases, long fencingToken) {
    }

    private final JsonlJournal<LeaseEntry> journal;
    private final Restored restored;

    private LeaseJournal(JsonlJournal<LeaseEntry> journal, Restored restored) {
        this.journal = journal;
        this.restored = restored;
    }

    static LeaseJournal open(Path stateDir, ObjectMapper mapper) throws IOException {
        return open(stateDir, mapper, JsonlJournal.OnCorruption.REFUSE);
    }

    static LeaseJournal open(Path stateDir, ObjectMapper mapper, JsonlJournal.OnCorruption onCorruption)
            throws IOException {
        List<LeaseEntry> entries = new ArrayList<>();
        JsonlJournal<LeaseEntry> journal = JsonlJournal.open(stateDir.resolve(FILE_NAME), LeaseEntry.class, mapper,
                entries::add, JsonlJournal.Disk.REAL, onCorruption);
        return new LeaseJournal(journal, replay(entries));
    }

    /** The state as of the file's end when it was opened. */
    Restored restored() {
        return restored;
    }

    /**
     * Applies entries in order. A grant overlapping a live lease (the same GPU or MIG device, or a GPU whose MIG
     * devices the other holds) is dropped (the book never writes one; a damaged or hand-edited file could): the
     * earlier lease keeps its devices, unless it had expired by the time of the grant (its EXPIRE line was lost to
     * a failed write). Lines written before MIG leases (no {@code mig}) are leases of whole GPUs.
     */
    static Restored replay(List<LeaseEntry> entries) {
        Map<String, Lease> live = new LinkedHashMap<>();
        long token = 0;
        for (LeaseEntry e : entries) {
            switch (e) {
                case LeaseEntry.Granted g -> {
                    Lease l = g.lease();
                    token = Math.max(token, l.fencingToken());
                    // A holder that had expired by this grant only missed its EXPIRE line (a failed write):
                    // the book freed it, so this grant is the real owner.
                    live.values().removeIf(x -> overlap(x, l) && x.expiredAt(l.grantedAt()));
                    Lease clash = live.values().stream().filter(x -> overlap(x, l)).findFirst().orElse(null);
                    if (live.containsKey(l.leaseId()) || clash != null) {
                        LOG.errorf("%s: grant of lease %s ignored: %s", FILE_NAME, l.leaseId(), clash == null
                                ? "its id is already live" : "its " + l.devices() + " overlap lease " + clash.leaseId()
                                + "'s " + clash.devices());
                        continue;
                    }
                    live.put(l.leaseId(), l);
                }
                case LeaseEntry.Heartbeat h -> live.computeIfPresent(h.leaseId(), (id, l) -> l.withExpiresAt(h.expiresAt()));
                case LeaseEntry.Released r -> live.remove(r.leaseId());
                case LeaseEntry.Expired x -> live.remove(x.leaseId());
                case LeaseEntry.FencingFloor f -> token = Math.max(token, f.fencingToken());
            }
        }
        return new Restored(live, token);
    }

    /** Both hold one device, or one holds a GPU whole whose MIG devices the other holds. */
    private static boolean overlap(Lease a, Lease b) {
        return a.gpus().stream().anyMatch(b::holds) || b.gpus().stream().anyMatch(a::holds);
    }

    /** Writes and fsyncs one entry: when this returns it survives a crash. */
    void append(LeaseEntry entry) throws IOException {
        journal.append(entry);
    }

    /** Writes several entries with one fsync. */
    void appendAll(List<? extends LeaseEntry> entries) throws IOException {
        long ticket = 0;
        for (LeaseEntry e : entries) {
            ticket = journal.write(e);
        }
        if (ticket > 0) {
            journal.sync(ticket);
        }
    }

    boolean usable() {
        return journal.usable();
    }

    long lineCount() {
        return journal.lineCount();
    }

    Path file() {
        return journal.file();
    }

    /** Replaces the file with the fencing floor and one grant per live lease (its current expiry). */
    void compact(Collection<Lease> live, long fencingToken) throws IOException {
        List<LeaseEntry> keep = new ArrayList<>(live.size() + 1);
        keep.add(new LeaseEntry.FencingFloor(fencingToken));
        live.forEach(l -> keep.add(new LeaseEntry.Granted(l)));
        journal.compact(keep);
    }

    /** After a failure: reopens the file and rewrites it as {@link #compact} does. */
    void reopen(Collection<Lease> live, long fencingToken) throws IOException {
        List<LeaseEntry> keep = new ArrayList<>(live.size() + 1);
        keep.add(new LeaseEntry.FencingFloor(fencingToken));
        live.forEach(l -> keep.add(new LeaseEntry.Granted(l)));
        journal.reopen(keep);
    }

    Optional<String> failure() {
        return journal.failure();
    }

    @Override
    public void close() {
        journal.close();
    }
}
