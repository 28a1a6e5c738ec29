package io.gpuagent.agent.recovery;

import jakarta.enterprise.context.ApplicationScoped;
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
 * before. The PIDs are the host's: run the agent in the host PID namespace, or it cannot see them.
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

    /** SIGTERM to every PID at once, then SIGKILL to those still running after {@code grace}. */
    @Bulkhead(4)
    public List<Outcome> terminate(Set<Long> pids, Set<Long> listedByNvml, Duration grace) throws InterruptedException {
        List<Outcome> out = new ArrayList<>();
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
