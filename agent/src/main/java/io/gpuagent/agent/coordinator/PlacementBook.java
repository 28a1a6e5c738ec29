package io.gpuagent.agent.coordinator;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.agent.journal.JournalDamaged;
import io.gpuagent.agent.journal.JsonlJournal;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The live placements, in memory and in {@code state-dir/placements.jsonl}: every change is fsync'd before
 * it is acknowledged, so a restarted coordinator still knows which leases to release. The file is compacted
 * to the live placements when it holds far more lines than that.
 */
public final class PlacementBook implements AutoCloseable {

    public static final String FILE_NAME = "placements.jsonl";

    /** One line of the journal: a placement made, changed (some leases released), or ended. */
    public record Entry(String op, Instant at, Placement placement, String reason) {
        static final String PLACED = "placed";
        static final String UPDATED = "updated";
        static final String ENDED = "ended";
    }

    /** Compact once the file has this many lines more than there are live placements (and at least 2x). */
    private static final int SLACK = 256;

    private final JsonlJournal<Entry> journal;
    private final Clock clock;
    private final Map<String, Placement> live = new LinkedHashMap<>();   // guarded by this

    public PlacementBook(Path stateDir, ObjectMapper mapper) throws IOException {
        this(stateDir, mapper, JsonlJournal.OnCorruption.REFUSE, Clock.systemUTC());
    }

    /**
     * A damaged line in the middle of the file is refused ({@link JournalDamaged}) or skipped, as told;
     * {@code clock}: the time each journal entry is stamped with.
     */
    public PlacementBook(Path stateDir, ObjectMapper mapper, JsonlJournal.OnCorruption onCorruption, Clock clock)
            throws IOException {
        this.clock = clock;
        this.journal = JsonlJournal.open(stateDir.resolve(FILE_NAME), Entry.class, mapper, this::replay,
                JsonlJournal.Disk.REAL, onCorruption);
    }

    private void replay(Entry e) {
        if (e.placement() == null || e.placement().placementId() == null || e.op() == null) {
            return;
        }
        switch (e.op()) {
            case Entry.PLACED, Entry.UPDATED -> live.put(e.placement().placementId(), e.placement());
            case Entry.ENDED -> live.remove(e.placement().placementId());
            default -> { }   // a newer coordinator's op: ignore rather than lose the rest
        }
    }

    /** Records a new placement durably. */
    public synchronized void add(Placement p) throws IOException {
        journal.append(new Entry(Entry.PLACED, clock.instant(), p, null));
        live.put(p.placementId(), p);
    }

    /** Records that only {@code p}'s remaining allocations are still live. */
    public synchronized void update(Placement p) throws IOException {
        if (!live.containsKey(p.placementId())) {
            return;
        }
        journal.append(new Entry(Entry.UPDATED, clock.instant(), p, null));
        live.put(p.placementId(), p);
    }

    /** Records that the placement ended; false when it was not live. */
    public synchronized boolean end(String placementId, String reason) throws IOException {
        Placement p = live.get(placementId);
        if (p == null) {
            return false;
        }
        journal.append(new Entry(Entry.ENDED, clock.instant(), p, reason));
        live.remove(placementId);
        if (journal.lineCount() > Math.max(2L * live.size(), live.size() + SLACK)) {
            Instant now = clock.instant();
            journal.compact(live.values().stream().map(x -> new Entry(Entry.PLACED, now, x, null)).toList());
        }
        return true;
    }

    public synchronized Optional<Placement> get(String placementId) {
        return Optional.ofNullable(live.get(placementId));
    }

    /** The live placement of this job, if any. */
    public synchronized Optional<Placement> ofJob(String jobId) {
        return live.values().stream().filter(p -> p.jobId().equals(jobId)).findFirst();
    }

    /** Every live placement, oldest first. */
    public synchronized List<Placement> all() {
        return new ArrayList<>(live.values());
    }

    boolean usable() {
        return journal.usable();
    }

    public synchronized int size() {
        return live.size();
    }

    @Override
    public void close() {
        journal.close();
    }
}
