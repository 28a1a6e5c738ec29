package io.gpuagent.agent.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code gpu-agent prepare-dir}, giving a directory and copied files to this test's own user (no root needed). */
class PrepareDirTest {

    @TempDir
    Path tmp;

    private int run(String... args) {
        PrintStream sink = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        return PrepareDir.run(args, sink, sink);
    }

    @Test
    void createsTheDirectoryAndCopiesAPrivateRegularFile() throws Exception {
        int uid = (Integer) Files.getAttribute(tmp, "unix:uid");
        int gid = (Integer) Files.getAttribute(tmp, "unix:gid");
        // A Secret's file: a link to the content.
        Path content = Files.writeString(tmp.resolve("..data-token"), "s3cret\n");
        Path secret = Files.createSymbolicLink(tmp.resolve("token"), content);
        Path dir = tmp.resolve("run/gpu-agent");

        assertEquals(0, run(dir.toString(), uid + ":" + gid, secret + "=operator-token"));

        assertEquals("rwxr-x---", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
        Path copied = dir.resolve("operator-token");
        assertFalse(Files.isSymbolicLink(copied));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(copied, LinkOption.NOFOLLOW_LINKS)));
        assertEquals(uid, Files.getAttribute(copied, "unix:uid"));
        assertEquals("s3cret\n", Files.readString(copied));
        // Again (a restarted pod): the copy is replaced, not refused.
        Files.writeString(content, "rotated\n");
        assertEquals(0, run(dir.toString(), uid + ":" + gid, secret + "=operator-token"));
        assertEquals("rotated\n", Files.readString(copied));
    }

    @Test
    void refusesBadArguments() {
        assertEquals(2, run(tmp.toString()));
        assertEquals(2, run(tmp.toString(), "gpu-agent"));
        assertEquals(2, run(tmp.toString(), "1:1", "/etc/hostname=../escape"));
        assertEquals(1, run(tmp.resolve("d").toString(), "0:0", tmp.resolve("missing") + "=x"));
    }
}
