package io.gpuagent.agent.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * {@code prepare-dir <dir> <uid>:<gid> [<file>=<name>...]}: the Kubernetes init container's one job, done by the
 * image's own Java because the image has no shell or coreutils. It creates {@code dir} if missing and gives it to
 * {@code uid:gid} with mode 0750 (a hostPath the kubelet made for root: the agent's state directory), and copies
 * each {@code file} into it as {@code name}, a regular file of mode 0600 owned by {@code uid:gid} (a Secret's
 * files are links owned by root, which the agent refuses as a token file). Needs CAP_CHOWN and CAP_FOWNER.
 * Exit 0 done, 1 failed (the line says what and what to do), 2 bad arguments.
 */
final class PrepareDir {

    private PrepareDir() {
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length < 2 || !args[1].matches("\\d+:\\d+")) {
            err.println("usage: gpu-agent prepare-dir <dir> <uid>:<gid> [<file>=<name>...]");
            return 2;
        }
        Path dir = Path.of(args[0]);
        String[] owner = args[1].split(":");
        int uid = Integer.parseInt(owner[0]);
        int gid = Integer.parseInt(owner[1]);
        try {
            Files.createDirectories(dir);
            // Root with CAP_CHOWN but without CAP_DAC_OVERRIDE may write only into a directory it owns: take it back
            // (a restarted pod finds it the agent's), write, and give it to the agent last.
            Path self = Path.of("/proc/self");   // owned by this process's user and group
            own(dir, (Integer) Files.getAttribute(self, "unix:uid"), (Integer) Files.getAttribute(self, "unix:gid"));
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-x---"));
            for (int i = 2; i < args.length; i++) {
                int eq = args[i].indexOf('=');
                String name = eq < 0 ? "" : args[i].substring(eq + 1);
                if (eq <= 0 || name.isEmpty() || name.contains("/") || name.startsWith(".")) {
                    err.println("prepare-dir: '" + args[i] + "' is not <file>=<name> (a plain name inside " + dir + ")");
                    return 2;
                }
                Path source = Path.of(args[i].substring(0, eq));
                Path target = dir.resolve(name);
                Path temp = dir.resolve("." + name + ".tmp");
                Files.deleteIfExists(temp);
                Files.createFile(temp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                Files.write(temp, Files.readAllBytes(source));
                own(temp, uid, gid);
                Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                out.println("prepare-dir: " + source + " copied to " + target + ", owned by " + uid + ":" + gid + ", mode 0600");
            }
            own(dir, uid, gid);
            out.println("prepare-dir: " + dir + " owned by " + uid + ":" + gid + ", mode 0750");
            return 0;
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            err.println("prepare-dir: " + e + "; the init container needs root with CAP_CHOWN and CAP_FOWNER, and the"
                    + " files to copy mounted readable by root");
            return 1;
        }
    }

    private static void own(Path path, int uid, int gid) throws IOException {
        Files.setAttribute(path, "unix:uid", uid);
        Files.setAttribute(path, "unix:gid", gid);
    }
}
