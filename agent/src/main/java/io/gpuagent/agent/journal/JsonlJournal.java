package io.gpuagent.agent.journal;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;

import java.io.FileDescriptor;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * An append-only JSON Lines file: one JSON object per line, each line durable (fsync) before
 * {@link #append} returns, so a caller may acknowledge a record as soon as append returns.
 *
 * <p>Each line carries a CRC32C of its JSON ({@link JournalLine}: the line format, its codec and reader).
 * Crash recovery on {@link #open}: a last line without its '\n' was never acknowledged (the newline is
 * written in the same write as the record, before the fsync), so it is cut off. A complete line that does not parse or fails its CRC is damage a crash does not cause: by
 * default ({@link OnCorruption#REFUSE}) open fails naming the file and the line, since dropping a line can
 * change state silently (a lost release revives a lease); {@link OnCorruption#SKIP} logs and skips it.
 *
 * <p>A failed write or fsync stops the journal: it accepts no records (rather than acknowledge ones that
 * may not be on disk) until its owner calls {@link #reopen} with what it acknowledged ({@link JournalWatch}
 * retries that with backoff and reports {@link #failure()} in /health).
 *
 * <p>Thread-safe. Appends are serialised in one order in the file; concurrent appenders share an fsync
 * (group commit). One process may have the file open at a time (an OS file lock enforces it).
 *
 * <p>File I/O goes through {@link RandomAccessFile} and {@code FileDescriptor.sync()} (fsync) rather than
 * {@link FileChannel}: an interrupt on any thread blocked in FileChannel I/O closes the channel for every
 * thread, which would turn one interrupted caller into a dead journal.
 */
public final class JsonlJournal<T> implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(JsonlJournal.class.getName());

    /** What open does with a damaged complete line: {@code gpu-agent.journal.on-corruption}. */
    public enum OnCorruption { REFUSE, SKIP }

    /** One complete line of the file as it is on disk (without its newline), for callers that need not parse it. */
    @FunctionalInterface
    public interface RawLine {
        void line(byte[] buf, int off, int len, long lineNo) throws IOException;
    }

    /**
     * How {@link #compact(LinePlan, List)} chooses the lines to keep: it sees every line once ({@code see}), then
     * is asked about each again ({@code keep}), both in file order and under the journal's locks.
     */
    public interface LinePlan {
        void see(byte[] buf, int off, int len, long lineNo) throws IOException;

        boolean keep(byte[] buf, int off, int len, long lineNo) throws IOException;
    }

    /**
     * Reads one line at {@link #openLines open} as it lies in the file (plain JSON, the CRC one more field): for an
     * owner that needs less of a record than all of it. {@code checked}: the line carries a CRC and it matched (a
     * line of an older version has none), so the owner may stop reading it early without missing damage. Throwing
     * marks the line damaged ({@link OnCorruption}).
     */
    @FunctionalInterface
    public interface LineReplay {
        void line(byte[] buf, int off, int len, boolean checked) throws IOException;
    }

    /** How a journal makes its file durable; a seam so that tests can make the disk fail and heal. */
    @FunctionalInterface
    public interface Disk {
        void fsync(FileDescriptor fd) throws IOException;

        Disk REAL = FileDescriptor::sync;
    }

    private final Path file;
    private final Path tmp;
    private final ObjectWriter writer;
    private final ObjectReader reader;
    private final Disk disk;
    private final OnCorruption onCorruption;

    // Lock order: syncLock before writeLock. Writers hold writeLock only; the fsync runs under syncLock
    // alone so that writers can add lines while it runs (those lines ride on the next fsync).
    private final Object syncLock = new Object();
    private final Object writeLock = new Object();

    private RandomAccessFile raf;   // guarded by writeLock; swapped by compact under both locks
    private long size;              // guarded by writeLock: bytes of complete lines
    private long lines;             // guarded by writeLock: lines in the file, malformed ones included
    private long written;           // guarded by writeLock: tickets handed out by write()
    private long synced;            // guarded by syncLock: every ticket <= synced is durable
    private long lostFrom = 1;      // guarded by syncLock: tickets in [lostFrom, lostTo] died with a failed fsync
    private long lostTo;            // guarded by syncLock
    private volatile IOException failure;
    private volatile boolean closed;

    private JsonlJournal(Path file, Class<T> type, ObjectMapper mapper, Disk disk, OnCorruption onCorruption) {
        this.file = file.toAbsolutePath();
        this.disk = disk;
        this.onCorruption = onCorruption;
        this.tmp = this.file.resolveSibling(this.file.getFileName() + ".tmp");
        // A private copy: the time module and settings below must not leak into the caller's mapper.
        ObjectMapper m = mapper.copy().registerModule(new JavaTimeModule())
                .setDefaultPropertyInclusion(JsonInclude.Include.NON_NULL);
        this.writer = m.writerFor(type)
                .without(SerializationFeature.INDENT_OUTPUT)   // one record must stay one line
                .without(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);
        // A newer agent may have added fields; an older one reading its file must not drop the record.
        this.reader = m.readerFor(type).without(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    }

    /** Opens (creating if needed) the journal; the existing records can be read with {@link #replay()}. */
    public static <T> JsonlJournal<T> open(Path file, Class<T> type, ObjectMapper mapper) throws IOException {
        return open(file, type, mapper, record -> { });
    }

    /**
     * Opens (creating if needed) the journal and hands each existing record, in file order, to
     * {@code replay} before returning. A torn last line is truncated away; malformed lines are skipped.
     */
    public static <T> JsonlJournal<T> open(Path file, Class<T> type, ObjectMapper mapper,
                                           Consumer<? super T> replay) throws IOException {
        return open(file, type, mapper, replay, Disk.REAL);
    }

    /** {@link #open(Path, Class, ObjectMapper, Consumer)} on a given {@link Disk}. */
    public static <T> JsonlJournal<T> open(Path file, Class<T> type, ObjectMapper mapper,
                                           Consumer<? super T> replay, Disk disk) throws IOException {
        return open(file, type, mapper, replay, disk, OnCorruption.REFUSE);
    }

    /** {@link #open(Path, Class, ObjectMapper, Consumer)} on a given {@link Disk}, damaged lines handled as told. */
    public static <T> JsonlJournal<T> open(Path file, Class<T> type, ObjectMapper mapper, Consumer<? super T> replay,
                                           Disk disk, OnCorruption onCorruption) throws IOException {
        JsonlJournal<T> journal = new JsonlJournal<>(file, type, mapper, disk, onCorruption);
        try {
            synchronized (journal.writeLock) {
                journal.openFile();
                journal.recover(replay);
            }
        } catch (IOException | RuntimeException e) {
            journal.close();
            throw e;
        }
        return journal;
    }

    /**
     * {@link #open(Path, Class, ObjectMapper, Consumer, Disk, OnCorruption)} that hands each existing line to
     * {@code replay} unparsed (its CRC checked), for an owner that reads only some fields of most lines.
     */
    public static <T> JsonlJournal<T> openLines(Path file, Class<T> type, ObjectMapper mapper, LineReplay replay,
                                                Disk disk, OnCorruption onCorruption) throws IOException {
        JsonlJournal<T> journal = new JsonlJournal<>(file, type, mapper, disk, onCorruption);
        try {
            synchronized (journal.writeLock) {
                journal.openFile();
                journal.recoverLines((buf, off, len, lineNo) -> journal.damageChecked(lineNo, () -> {
                    replay.line(buf, off, len, JournalLine.verify(buf, off, len));
                }));
            }
        } catch (IOException | RuntimeException e) {
            journal.close();
            throw e;
        }
        return journal;
    }

    private void openFile() throws IOException {
        Path dir = file.getParent();
        JournalFiles.createDirectories(dir);
        if (JournalFiles.createFile(file)) {
            JournalFiles.fsyncDirectory(dir);
        }
        raf = new RandomAccessFile(file.toFile(), "rw");
        JournalFiles.lockOrFail(raf, file);
        // Only once we hold the lock (the tmp may belong to a live owner): a crash during compaction can leave
        // the new file behind; the old one is still the real one.
        Files.deleteIfExists(tmp);
    }

    private void recover(Consumer<? super T> replay) throws IOException {
        recoverLines((buf, off, len, lineNo) -> parse(buf, off, len, lineNo, replay));
    }

    private void recoverLines(JournalLine.Sink sink) throws IOException {
        JournalLine.Scan scan = JournalLine.scan(raf, (buf, off, len, lineNo) -> {
            if (!JournalLine.blank(buf, off, len)) {
                sink.line(buf, off, len, lineNo);
            }
        });
        lines = scan.lines();   // malformed ones included
        long end = scan.end();
        long length = raf.length();
        if (end < length) {
            LOG.log(System.Logger.Level.WARNING, file + ": torn last line at byte offset " + end + " ("
                    + (length - end) + " bytes without a newline, never acknowledged) truncated");
            raf.setLength(end);
            disk.fsync(raf.getFD());
        }
        size = end;
    }

    private void parse(byte[] buf, int off, int len, long lineNo, Consumer<? super T> sink) throws IOException {
        if (JournalLine.blank(buf, off, len)) {
            return;
        }
        Object[] record = {null};
        damageChecked(lineNo, () -> {
            byte[] json = JournalLine.checked(buf, off, len);
            record[0] = json == null ? reader.readValue(buf, off, len) : reader.readValue(json);
        });
        if (record[0] != null) {
            @SuppressWarnings("unchecked")
            T r = (T) record[0];
            sink.accept(r);
        }
    }

    @FunctionalInterface
    private interface LineWork {
        void run() throws IOException;
    }

    /** Runs {@code work} on line {@code lineNo}; a failure there is damage, handled as {@link #onCorruption} says. */
    private void damageChecked(long lineNo, LineWork work) throws IOException {
        try {
            work.run();
        } catch (IOException | RuntimeException e) {
            String why = String.valueOf(e.getMessage()).lines().findFirst().orElse("");
            if (onCorruption == OnCorruption.REFUSE) {
                throw new JournalDamaged(file + ": line " + lineNo + " is damaged (" + why + "); refusing to start, "
                        + "since dropping a line can change state silently (a lost release revives a lease). Keep a "
                        + "copy of the file, then inspect or repair that line, or set gpu-agent.journal.on-corruption=skip "
                        + "to start without it");
            }
            LOG.log(System.Logger.Level.WARNING, file + ": line " + lineNo + " is damaged and was skipped "
                    + "(gpu-agent.journal.on-corruption=skip): " + why);
        }
    }

    /** Serialises, writes and fsyncs one record; when this returns the record survives a crash. */
    public void append(T record) throws IOException {
        sync(write(record));
    }

    /**
     * Writes one record without waiting for the fsync and returns a ticket for {@link #sync(long)}.
     * For callers that must order records under their own lock (EventLog assigns ids) but should not hold
     * that lock across the fsync. A record is not durable until {@code sync(ticket)} returns.
     */
    public long write(T record) throws IOException {
        byte[] line = JournalLine.encode(writer.writeValueAsBytes(record));
        synchronized (writeLock) {
            ensureUsable();
            try {
                raf.seek(size);
                raf.write(line);
            } catch (IOException e) {
                // A half-written line would glue itself to the next record; take it back. Either way the disk
                // refused a write (full, read-only, gone): the journal stops until reopen() finds it writable.
                try {
                    raf.setLength(size);
                } catch (IOException again) {
                    e.addSuppressed(again);
                }
                failure = e;
                throw e;
            }
            size += line.length;
            lines++;
            return ++written;
        }
    }

    /** Returns once every record written up to {@code ticket} is on disk; one fsync may serve many callers. */
    public void sync(long ticket) throws IOException {
        synchronized (syncLock) {
            if (ticket >= lostFrom && ticket <= lostTo) {
                throw new IOException(file + ": the record was written before an fsync failed; it is not durable");
            }
            if (synced >= ticket) {
                return;
            }
            long target;
            RandomAccessFile f;
            synchronized (writeLock) {
                ensureUsable();
                target = written;
                f = raf;
            }
            try {
                disk.fsync(f.getFD());
            } catch (IOException e) {
                // After a failed fsync the kernel may have dropped the dirty pages: nothing written since the
                // last good fsync can be trusted, so stop accepting records rather than acknowledge them.
                failure = e;
                throw e;
            }
            synced = target;
        }
    }

    /** Reads the file again from the start: every record currently in it, in file order. */
    public List<T> replay() throws IOException {
        List<T> records = new ArrayList<>();
        synchronized (writeLock) {
            ensureUsable();
            JournalLine.scan(raf, (buf, off, len, lineNo) -> parse(buf, off, len, lineNo, records::add));
        }
        return records;
    }

    /**
     * Replaces the file's content with {@code keep} (in that order) atomically: written to {@code file.tmp},
     * fsynced, renamed over the file, directory fsynced. A crash at any point leaves either the old or the
     * new file, both complete. The caller must make sure no record it still needs is appended between
     * choosing {@code keep} and this call (EventLog calls it under the lock it appends with).
     */
    public void compact(List<? extends T> keep) throws IOException {
        synchronized (syncLock) {
            synchronized (writeLock) {
                ensureUsable();
                rewrite(keep);
            }
        }
    }

    /**
     * Hands every complete line of the file to {@code sink} as it is on disk (blank lines left out), in file
     * order, without parsing it: for a reader that looks for a few lines among many (a lease id) and parses only
     * those with {@link #parse(byte[], int, int)}.
     */
    public void scan(RawLine sink) throws IOException {
        synchronized (writeLock) {
            ensureUsable();
            JournalLine.scan(raf, (buf, off, len, lineNo) -> {
                if (!JournalLine.blank(buf, off, len)) {
                    sink.line(buf, off, len, lineNo);
                }
            });
        }
    }

    /** One line as {@link #scan} gives it, parsed (its CRC checked); throws when it is damaged. */
    public T parse(byte[] buf, int off, int len) throws IOException {
        byte[] json = JournalLine.checked(buf, off, len);
        return json == null ? reader.readValue(buf, off, len) : reader.readValue(json);
    }

    /**
     * Like {@link #compact(List)}, but keeps the lines {@code plan} chooses byte for byte (never parsed or
     * re-encoded, so a large file is rewritten without holding its records in memory), followed by
     * {@code extra}. Atomic in the same way.
     */
    public void compact(LinePlan plan, List<? extends T> extra) throws IOException {
        synchronized (syncLock) {
            synchronized (writeLock) {
                ensureUsable();
                JournalLine.scan(raf, (buf, off, len, lineNo) -> {
                    if (!JournalLine.blank(buf, off, len)) {
                        plan.see(buf, off, len, lineNo);
                    }
                });
                long[] kept = {0};
                long bytes = JournalFiles.replace(file, tmp, disk, out -> {
                    long[] n = {0};
                    JournalLine.scan(raf, (buf, off, len, lineNo) -> {
                        if (!JournalLine.blank(buf, off, len) && plan.keep(buf, off, len, lineNo)) {
                            out.write(buf, off, len);
                            out.write('\n');
                            n[0] += len + 1;
                            kept[0]++;
                        }
                    });
                    for (T record : extra) {
                        byte[] line = JournalLine.encode(writer.writeValueAsBytes(record));
                        out.write(line);
                        n[0] += line.length;
                        kept[0]++;
                    }
                    return n[0];
                });
                swapIn(bytes, kept[0]);
            }
        }
    }

    /**
     * After a failure ({@link #failure()}): opens the file again and rewrites it to {@code keep}, what the
     * owner acknowledged, since lines written around a failed fsync may or may not be on disk. Records
     * written but not yet synced when it failed stay failed ({@link #sync} throws for them). No-op when the
     * journal has not failed; throws, and stays failed, while the disk still fails.
     */
    public void reopen(List<? extends T> keep) throws IOException {
        synchronized (syncLock) {
            synchronized (writeLock) {
                if (closed) {
                    throw new IOException(file + " is closed");
                }
                if (failure == null) {
                    return;
                }
                if (lostTo < written) {
                    lostFrom = synced + 1;
                    lostTo = written;
                }
                try {
                    if (raf != null) {
                        raf.close();
                    }
                } catch (IOException e) {
                    // the old descriptor is abandoned either way
                }
                raf = null;
                try {
                    raf = new RandomAccessFile(file.toFile(), "rw");
                    JournalFiles.lockOrFail(raf, file);
                    rewrite(keep);
                } catch (IOException e) {
                    failure = e;
                    throw e;
                }
                failure = null;
            }
        }
    }

    /** The failure that stops this journal accepting records, or empty while it works. */
    public Optional<String> failure() {
        IOException f = failure;
        return f == null ? Optional.empty() : Optional.of(String.valueOf(f.getMessage()));
    }

    /** Caller holds syncLock and writeLock. */
    private void rewrite(List<? extends T> keep) throws IOException {
        long bytes = JournalFiles.replace(file, tmp, disk, out -> {
            long n = 0;
            for (T record : keep) {
                byte[] line = JournalLine.encode(writer.writeValueAsBytes(record));
                out.write(line);
                n += line.length;
            }
            return n;
        });
        swapIn(bytes, keep.size());
    }

    /** Caller holds syncLock and writeLock: the file was just replaced by one of {@code bytes} in {@code count} lines. */
    private void swapIn(long bytes, long count) throws IOException {
        // The old inode is unlinked now: from here a failure leaves us unsure where the next record
        // would land on disk, so it disables the journal instead of risking a lost acknowledgement.
        try {
            RandomAccessFile fresh = new RandomAccessFile(file.toFile(), "rw");
            JournalFiles.lockOrFail(fresh, file);
            raf.close();
            raf = fresh;
            JournalFiles.fsyncDirectory(file.getParent());
        } catch (IOException e) {
            failure = e;
            throw e;
        }
        size = bytes;
        lines = count;
        synced = written;   // everything written so far is either in the new file or deliberately gone
    }

    /** Bytes in the file (complete lines). */
    public long size() {
        synchronized (writeLock) {
            return size;
        }
    }

    /** Lines in the file, malformed ones included: what the size bound for compaction counts. */
    public long lineCount() {
        synchronized (writeLock) {
            return lines;
        }
    }

    /** False once a write or fsync failed (records are refused until the file is reopened) or after close. */
    public boolean usable() {
        return !closed && failure == null;
    }

    public Path file() {
        return file;
    }

    @Override
    public void close() {
        synchronized (syncLock) {
            synchronized (writeLock) {
                closed = true;
                if (raf != null) {
                    try {
                        raf.close();   // also releases the OS lock
                    } catch (IOException e) {
                        LOG.log(System.Logger.Level.WARNING, file + ": close failed: " + e.getMessage());
                    }
                    raf = null;
                }
            }
        }
    }

    private void ensureUsable() throws IOException {
        if (closed) {
            throw new IOException(file + " is closed");
        }
        IOException f = failure;
        if (f != null) {
            throw new IOException(file + " failed earlier (" + f.getMessage()
                    + ") and accepts no records until it is reopened", f);
        }
    }
}
