package io.gpuagent.agent.auth;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.StandardOpenOption;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;
import org.jboss.logging.Logger;

/**
 * One credential file. It must be a regular file (never followed through a link: it is opened with
 * {@code O_NOFOLLOW}), owned by the agent's user or root, mode 0600 or stricter, in a directory no group or
 * other user can write (who can write the directory can swap the file). Its attributes are read on every use, so a file that became readable by group or
 * others (a {@code chmod} changes no time the content cache looks at) is refused at once, in every mode; its
 * content is read again whenever its time, size or identity changes, so rotating needs no restart. The
 * secret is kept only as its SHA-256 (to compare in constant time) and, for outgoing calls, as text; neither
 * is ever logged. Thread-safe.
 */
public final class TokenFile {

    private static final Logger LOG = Logger.getLogger(TokenFile.class);
    private static final Set<PosixFilePermission> GROUP_OR_OTHERS = EnumSet.of(PosixFilePermission.GROUP_READ,
            PosixFilePermission.GROUP_WRITE, PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE);

    /** What the file holds now: a usable secret, or why it cannot be used and how to fix it. */
    public sealed interface State {
    }

    public record Usable(String token, byte[] digest) implements State {
        @Override
        public String toString() {
            return "Usable[secret]";   // never the token
        }
    }

    public record Unusable(String problem) implements State {
    }

    /** The user this process runs as; a token file owned by anyone else (or root) is refused. */
    /** A token is a line; anything much bigger is not one. */
    private static final int MAX_BYTES = 64 * 1024;
    private static final String SELF = System.getProperty("user.name");

    private final Path path;
    private final String key;
    // guarded by this
    private FileTime modified;
    private long size = -1;
    private Object fileKey;
    private State state;

    /** {@code key} names the setting (or directory entry) the file comes from, for messages. */
    public TokenFile(Path path, String key) {
        this.path = path;
        this.key = key;
    }

    public Path path() {
        return path;
    }

    /** The secret as of now (see the class comment). */
    public synchronized State read() {
        PosixFileAttributes attrs;
        try {
            attrs = Files.readAttributes(path, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return remember(new Unusable("the token file " + path + " (" + key + ") does not exist; create it "
                    + "with a token, mode 0600: install -m 0600 /dev/null " + path
                    + " && head -c 32 /dev/urandom | base64 > " + path));
        } catch (UnsupportedOperationException e) {
            return remember(new Unusable("the token file " + path + " (" + key + ") is on a file system without "
                    + "POSIX permissions, so it cannot be kept private; move it to a local file system, mode 0600"));
        } catch (IOException e) {
            return remember(new Unusable("the token file " + path + " (" + key + ") cannot be read (" + e
                    + "); make it readable by the agent's user only (chmod 600)"));
        }
        if (attrs.isSymbolicLink() || !attrs.isRegularFile()) {
            return remember(new Unusable("the token file " + path + " (" + key + ") is not a regular file (a "
                    + "symbolic link or directory); point " + key + " at the file itself, mode 0600"));
        }
        Set<PosixFilePermission> perms = attrs.permissions();
        if (perms.stream().anyMatch(GROUP_OR_OTHERS::contains)) {
            return remember(new Unusable("the token file " + path + " (" + key + ") is accessible to group or "
                    + "others (" + PosixFilePermissions.toString(perms) + ") so it is not used; run: chmod 600 "
                    + path + " and rotate the token, others may have read it"));
        }
        String owner = attrs.owner().getName();
        if (!owner.equals(SELF) && !owner.equals("root")) {
            return remember(new Unusable("the token file " + path + " (" + key + ") is owned by " + owner + ", not by "
                    + SELF + " (the agent's user) or root, so that user could change it; run: chown " + SELF + " "
                    + path + " and rotate the token"));
        }
        String parentProblem = parentProblem();
        if (parentProblem != null) {
            return remember(new Unusable(parentProblem));
        }
        if (state instanceof Usable && attrs.lastModifiedTime().equals(modified) && attrs.size() == size
                && Objects.equals(attrs.fileKey(), fileKey)) {
            return state;
        }
        try {
            String text = readNoFollow().strip();
            if (text.isEmpty()) {
                return remember(new Unusable("the token file " + path + " (" + key + ") is empty; write a token "
                        + "into it: head -c 32 /dev/urandom | base64 > " + path));
            }
            boolean rotated = state instanceof Usable;
            modified = attrs.lastModifiedTime();
            size = attrs.size();
            fileKey = attrs.fileKey();
            State s = remember(new Usable(text, sha256(text)));
            if (rotated) {
                LOG.infof("the token file %s (%s) changed; using the new token", path, key);
            }
            return s;
        } catch (IOException | RuntimeException e) {
            return remember(new Unusable("the token file " + path + " (" + key + ") cannot be read (" + e
                    + "); make it a regular file readable by the agent's user only (chmod 600), not a link"));
        }
    }

    /** Who can write the directory can replace the file: refuse a directory writable by group or others. */
    private String parentProblem() {
        Path parent = path.toAbsolutePath().getParent();
        if (parent == null) {
            return null;
        }
        try {
            Set<PosixFilePermission> p = Files.readAttributes(parent, PosixFileAttributes.class).permissions();
            if (p.contains(PosixFilePermission.GROUP_WRITE) || p.contains(PosixFilePermission.OTHERS_WRITE)) {
                return "the token file " + path + " (" + key + ") is in " + parent + ", which group or others may "
                        + "write (" + PosixFilePermissions.toString(p) + "), so they could replace it; move it to a "
                        + "directory only root and the agent's user can write (chmod go-w " + parent + ") and "
                        + "rotate the token";
            }
            return null;
        } catch (IOException | UnsupportedOperationException e) {
            return "the directory of the token file " + path + " (" + key + ") cannot be checked (" + e + ")";
        }
    }

    /** The content, opened with O_NOFOLLOW: a link swapped in after the attribute check fails here. */
    private String readNoFollow() throws IOException {
        try (SeekableByteChannel ch = Files.newByteChannel(path, Set.of(StandardOpenOption.READ,
                LinkOption.NOFOLLOW_LINKS))) {
            if (ch.size() > MAX_BYTES) {
                throw new IOException("larger than " + MAX_BYTES + " bytes; a token is one line");
            }
            ByteBuffer buf = ByteBuffer.allocate((int) ch.size() + 1);
            while (buf.hasRemaining() && ch.read(buf) > 0) {
                // read on until the end, or one byte past the size seen (the file grew: still bounded)
            }
            buf.flip();
            return StandardCharsets.UTF_8.newDecoder().decode(buf).toString();
        }
    }

    /** True when {@code presented} is this file's token; constant time in the token's content. */
    public boolean matches(String presented) {
        return read() instanceof Usable u && MessageDigest.isEqual(sha256(presented), u.digest());
    }

    /** Logs a problem once when it appears or changes, and the recovery when it goes away. */
    private State remember(State next) {
        State old = state;
        if (next instanceof Unusable(String problem)) {
            if (!(old instanceof Unusable(String was)) || !was.equals(problem)) {
                LOG.warn(problem);
            }
            modified = null;
            size = -1;
            fileKey = null;
        } else if (old instanceof Unusable) {
            LOG.infof("the token file %s (%s) is usable again", path, key);
        }
        state = next;
        return next;
    }

    static byte[] sha256(String text) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK lacks SHA-256", e);
        }
    }
}
