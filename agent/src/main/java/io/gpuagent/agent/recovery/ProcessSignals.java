package io.gpuagent.agent.recovery;

import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.eclipse.microprofile.faulttolerance.Bulkhead;

/**
 * Terminates the processes on a GPU: SIGTERM, wait the grace period, SIGKILL. Only the PIDs NVML reports on
 * that GPU, and never the agent itself or PID 1 ({@link #refusal}); the caller passes NVML's list as read just
 * before. A process is taken by its handle at once, and Java's {@link ProcessHandle} remembers its start
 * time: a PID reused by another process meanwhile is neither waited for nor signalled. NVML's PIDs are the
 * host's: in a PID namespace of its own the agent would signal unrelated processes, so it refuses to signal
 * at all ({@link #namespaceRefusal}).
 */
@ApplicationScoped
public class ProcessSignals {

    /** How long to wait for the kernel to reap a process after SIGKILL. */
    static final Duration KILL_WAIT = Duration.ofSeconds(5);

    /** What happened to one PID. */
    public record Outcome(long pid, boolean gone, String what, boolean notPermitted) {
        Outcome(long pid, boolean gone, String what) {
            this(pid, gone, what, false);
        }
    }

    /** Why {@code pid} must not be signalled, or empty when it may be. */
    public static Optional<String> refusal(long pid, Collection<Long> listedByNvml) {
        if (pid <= 1) {
            return Optional.of("PID " + pid + " is init (or not a process); never signalled");
        }
        if (pid == ProcessHandle.current().pid()) {
            return Optional.of("PID " + pid + " is the agent itself; never signalled");
        }
        if (!listedByNvml.contains(pid)) {
            return Optional.of("PID " + pid + " is not on this GPU according to NVML; not signalled");
        }
        return Optional.empty();
    }

    /**
     * Why the agent must not signal NVML's PIDs from where it runs, or empty: {@code /proc/self/status}'s
     * {@code NSpid} lists one PID per namespace level, so more than one means a nested PID namespace.
     */
    public static Optional<String> namespaceRefusal(String procSelfStatus) {
        for (String line : procSelfStatus.split("\n")) {
            if (line.startsWith("NSpid:")) {
                String[] ids = line.substring(6).trim().split("\\s+");
                if (ids.length > 1) {
                    return Optional.of("the agent runs in a PID namespace of its own (NSpid " + String.join(" ", ids)
                            + "): NVML's PIDs are the host's and would name other processes here; run the agent in the "
                            + "host PID namespace (a systemd service is; a container needs --pid=host)");
                }
            }
        }
        return Optional.empty();
    }

    private static Optional<String> namespaceRefusal() {
        try {
            return namespaceRefusal(Files.readString(Path.of("/proc/self/status")));
        } catch (IOException e) {
            return Optional.empty();   // no /proc: nothing to compare; NVML's list still bounds what is signalled
        }
    }

    /** SIGTERM to every PID at once, then SIGKILL to those still running after {@code grace}. */
    @Bulkhead(4)
    public List<Outcome> terminate(Set<Long> pids, Set<Long> listedByNvml, Duration grace) throws InterruptedException {
        List<Outcome> out = new ArrayList<>();
        Optional<String> elsewhere = namespaceRefusal();
        if (elsewhere.isPresent()) {
            pids.forEach(pid -> out.add(new Outcome(pid, false, elsewhere.get())));
            return out;
        }
        List<ProcessHandle> signalled = new ArrayList<>();
        for (long pid : pids) {
            Optional<String> no = refusal(pid, listedByNvml);
            if (no.isPresent()) {
                out.add(new Outcome(pid, false, no.get()));
                continue;
            }
            Optional<ProcessHandle> h = ProcessHandle.of(pid);
            if (h.isEmpty() || !h.get().isAlive()) {
                out.add(new Outcome(pid, true, "PID " + pid + " had already exited"));
                continue;
            }
            if (!h.get().destroy() && h.get().isAlive()) {   // SIGTERM; false: kill(2) said EPERM
                out.add(new Outcome(pid, false, "PID " + pid + " may not be signalled by the agent (EPERM)", true));
                continue;
            }
            signalled.add(h.get());
        }
        long deadline = System.nanoTime() + grace.toNanos();
        for (ProcessHandle h : signalled) {
            if (waitFor(h, Math.max(0, deadline - System.nanoTime()))) {
                out.add(new Outcome(h.pid(), true, "PID " + h.pid() + " exited after SIGTERM"));
                continue;
            }
            h.destroyForcibly();   // SIGKILL
            boolean gone = waitFor(h, KILL_WAIT.toNanos());
            out.add(new Outcome(h.pid(), gone, "PID " + h.pid() + (gone ? " killed with SIGKILL after "
                    : " still running " + KILL_WAIT.toSeconds() + " s after SIGKILL (grace ") + grace.toSeconds() + " s"
                    + (gone ? "" : "); it may be stuck in the driver: reboot the node")));
        }
        return out;
    }

    private static boolean waitFor(ProcessHandle h, long nanos) throws InterruptedException {
        CompletableFuture<ProcessHandle> exit = h.onExit();
        try {
            exit.get(nanos, TimeUnit.NANOSECONDS);
            return true;
        } catch (TimeoutException e) {
            return !h.isAlive();
        } catch (ExecutionException e) {
            return !h.isAlive();
        }
    }
}
