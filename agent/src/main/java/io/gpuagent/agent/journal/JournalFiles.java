package io.gpuagent.agent.journal;

import java.io.BufferedOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

/**
 * What a {@link JsonlJournal} needs from the file system beyond appends: creating its directory and file
 * durably and privately (0750 / 0640 where POSIX), replacing the file atomically (compaction), fsyncing a
 * directory, and the OS lock that keeps a second process off the file.
 */
final class JournalFiles {

    private JournalFiles() {
    }

    /**
     * Creates {@code dir} and any missing parents, and fsyncs each new entry's parent: a new directory's own
     * entry must be durable too, or the first acknowledged record can vanish with it.
     */
    static void createDirectories(Path dir) throws IOException {
        List<Path> created = new ArrayList<>();
        for (Path p = dir; p != null && !Files.exists(p); p = p.getParent()) {
            created.add(p);
        }
        if (posix(dir)) {
            Files.createDirectories(dir, perms("rwxr-x---"));
        } else {
            Files.createDirectories(dir);
        }
        for (Path p : created) {
            fsyncDirectory(p.getParent());
        }
    }

    /** Writes a file's lines to {@code out}; returns how many bytes it wrote. */
    @FunctionalInterface
    interface Lines {
        long writeTo(OutputStream out) throws IOException;
    }

    /**
     * Replaces {@code file} with what {@code lines} writes, atomically: written to {@code tmp}, fsynced, renamed
     * over the file. A crash at any point leaves either the old or the new file, both complete. The caller
     * fsyncs the directory once it holds the new file open. Returns the new file's size.
     */
    static long replace(Path file, Path tmp, JsonlJournal.Disk disk, Lines lines) throws IOException {
        long bytes;
        Files.deleteIfExists(tmp);
        createFile(tmp);
        try (FileOutputStream fos = new FileOutputStream(tmp.toFile());
             OutputStream out = new BufferedOutputStream(fos, JournalLine.CHUNK)) {
            bytes = lines.writeTo(out);
            out.flush();
            disk.fsync(fos.getFD());
        } catch (IOException | RuntimeException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException again) {
                e.addSuppressed(again);
            }
            throw e;
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        return bytes;
    }

    /** Creates an empty file with mode 0640 where POSIX; false if it already existed. */
    static boolean createFile(Path path) throws IOException {
        try {
            if (posix(path.getParent())) {
                Files.createFile(path, perms("rw-r-----"));
            } else {
                Files.createFile(path);
            }
            return true;
        } catch (FileAlreadyExistsException e) {
            return false;
        }
    }

    /** Makes a create or rename in {@code dir} durable. Directories cannot be fsynced on Windows: skipped. */
    static void fsyncDirectory(Path dir) throws IOException {
        if (!posix(dir)) {
            return;
        }
        // FileChannel is interruptible; a pending interrupt must not fail the fsync, so retry with it cleared
        // and restore it afterwards.
        boolean interrupted = false;
        try {
            while (true) {
                try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
                    ch.force(true);
                    return;
                } catch (ClosedByInterruptException e) {
                    interrupted |= Thread.interrupted();
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Takes the OS lock on {@code f} (the journal {@code file}), or closes it and throws. The lock lives as long
     * as the file stays open; closing the file releases it.
     */
    static void lockOrFail(RandomAccessFile f, Path file) throws IOException {
        FileLock lock;
        try {
            lock = f.getChannel().tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        }
        if (lock == null) {
            f.close();
            throw new IOException(file + " is already open by another journal (this or another process)");
        }
    }

    private static boolean posix(Path path) {
        return path.getFileSystem().supportedFileAttributeViews().contains("posix");
    }

    private static FileAttribute<?> perms(String rwx) {
        return PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(rwx));
    }
}
