package io.gpuagent.agent.recovery;

import io.gpuagent.agent.lease.Cordons;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.jboss.logging.Logger;

/**
 * Runs accepted actions, each on its own thread holding its GPU's lane: the steps in order, each audited
 * before and after and bounded by {@code action-timeout}; a policy's failed reset escalates to a reboot
 * request, a verified reset uncordons what recovery cordoned, and the closing line says how it ended.
 */
final class ActionRunner {

    private static final Logger LOG = Logger.getLogger(ActionRunner.class);

    private final RecoveryConfig config;
    private final Cordons cordons;
    private final NodeBreaker breaker;
    private final ResetRateLimit rateLimit;
    private final ActionLog log;
    private final StepRunner steps;
    private final Clock clock;
    // Plans only wait and write the audit log: virtual threads. Steps call NVML (power caps, clocks) and a
    // native call pins a virtual thread's carrier, so a few hung writes on a sick GPU would stall every
    // virtual thread in the JVM: steps get platform threads, one per running step.
    private final ExecutorService plans = Executors.newVirtualThreadPerTaskExecutor();
    private final ExecutorService stepThreads = Executors.newThreadPerTaskExecutor(
            Thread.ofPlatform().name("recovery-step-", 0).daemon(true).factory());
    private final AtomicInteger resetsRunning = new AtomicInteger();

    ActionRunner(RecoveryConfig config, Cordons cordons, NodeBreaker breaker, ResetRateLimit rateLimit, ActionLog log,
                 StepRunner steps, Clock clock) {
        this.config = config;
        this.clock = clock;
        this.cordons = cordons;
        this.breaker = breaker;
        this.rateLimit = rateLimit;
        this.log = log;
        this.steps = steps;
    }

    /**
     * Stops the actions; a reset command already running is let finish first (up to {@code command-timeout}):
     * a GPU interrupted half-way through a reset is worse off than either before or after it. The unit's
     * KillMode=mixed and TimeoutStopSec leave the command running while this waits.
     */
    void stop() {
        long deadline = System.nanoTime() + config.commandTimeout().toNanos();
        if (resetsRunning.get() > 0) {
            LOG.warnf("stopping: waiting up to %s for %d running GPU reset(s) to finish", config.commandTimeout(),
                    resetsRunning.get());
        }
        while (resetsRunning.get() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        plans.shutdownNow();
        stepThreads.shutdownNow();
    }

    /** Writes the opening line (durable before this returns), then runs the steps on their own thread. */
    ActionRecord start(Execution e, GpuLanes.Lane lane) {
        ActionRecord opened;
        try {
            opened = log.append(e.line(Step.REQUEST, Result.STARTED, null, "steps: " + labels(e.steps)
                    + (e.force ? " (force)" : "")));
            plans.submit(() -> {
                try (lane) {
                    run(e);
                } catch (RuntimeException x) {
                    LOG.errorf(x, "action %s on GPU %d failed unexpectedly", e.actionId, e.target.index());
                }
            });
        } catch (RuntimeException x) {
            lane.close();
            throw x;
        }
        return opened;
    }

    /**
     * Why a reset of the GPU must not run now (a MIG device, not drained, rate limited), or empty when it may. A
     * GPU in MIG mode is drained only when no lease holds any of its MIG devices and no process runs on any.
     */
    /** Why an operator's DCGM diagnostic may not run now; empty when it may. */
    Optional<String> diagnoseRefusal(Execution e) {
        return steps.diagnoseRefusal(e);
    }

    Optional<String> resetRefusal(Execution e, Instant now) {
        if (e.target.uuid().startsWith("MIG-")) {
            return Optional.of(e.target.uuid() + " is a MIG device, which cannot be reset on its own: a reset is of "
                    + "the whole GPU (POST /v1/gpus/{index}/reset on its GPU), after every MIG device on it is drained");
        }
        if (!e.force) {
            Busy b = steps.busy(e.target.uuid());
            if (!b.idle()) {
                return Optional.of("GPU " + e.target.index() + " is not drained: " + b.describe() + "; drain it first "
                        + "(POST /v1/gpus/" + e.target.index() + "/drain) or reset anyway with ?force=true");
            }
        }
        return rateLimit.blockedUntil(e.target.uuid(), now).map(t -> "rate limited: at most " + rateLimit.describe()
                + " resets per GPU (gpu-agent.recovery.reset-limit, reset-window); the next reset of GPU "
                + e.target.index() + " is allowed at " + t + ". A GPU that needs more resets needs a reboot or an inspection");
    }

    static String labels(List<Step> steps) {
        return steps.stream().map(Step::label).collect(Collectors.joining(", "));
    }

    private void run(Execution e) {
        long t0 = System.nanoTime();
        Result overall = Result.SUCCEEDED;
        String detail = "all steps succeeded";
        for (Step s : e.steps) {
            if (e.byPolicy() && breaker.isOpen() && s != Step.CORDON) {
                overall = Result.SKIPPED;
                detail = "node breaker opened (" + breaker.openReason() + "); stopped before " + s.label();
                log.append(e.line(s, Result.SKIPPED, null, detail));
                break;
            }
            StepOutcome o = step(e, s);
            if (o.result() == Result.SUCCEEDED) {
                continue;
            }
            overall = o.result();
            detail = s.label() + " " + o.result().label() + ": " + o.detail();
            if (e.byPolicy() && (s == Step.RESET || s == Step.VERIFY) && o.result() != Result.REJECTED) {
                StepOutcome reboot = step(e, Step.REQUEST_REBOOT);
                detail += "; escalated to request_reboot: " + reboot.result().label();
            }
            break;
        }
        if (overall == Result.SUCCEEDED && e.steps.contains(Step.VERIFY)) {
            Optional<Cordons.Cordon> c = cordons.of(e.target.uuid());
            if (c.isPresent() && (e.cordonedHere || Trigger.isPolicy(c.get().by()))) {
                step(e, Step.UNCORDON);
            }
        }
        log.append(e.line(Step.REQUEST, overall, millisSince(t0), detail));
    }

    /** One step: checks, "started" (durable), the work under the action timeout, the result. */
    private StepOutcome step(Execution e, Step s) {
        if (s == Step.RESET) {
            Optional<String> no = resetRefusal(e, clock.instant());
            if (no.isPresent()) {
                StepOutcome o = new StepOutcome(Result.REJECTED, no.get());
                log.append(e.line(s, o.result(), null, o.detail()));
                return o;
            }
        }
        log.append(e.line(s, Result.STARTED, null, null));
        long t0 = System.nanoTime();
        StepOutcome o;
        Future<StepOutcome> f = stepThreads.submit(() -> {
            if (s != Step.RESET) {
                return steps.perform(e, s);
            }
            resetsRunning.incrementAndGet();
            try {
                return steps.perform(e, s);
            } finally {
                resetsRunning.decrementAndGet();
            }
        });
        try {
            o = f.get(config.actionTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException x) {
            f.cancel(true);
            o = new StepOutcome(Result.TIMED_OUT, "still running after gpu-agent.recovery.action-timeout ("
                    + config.actionTimeout() + "); stopped");
        } catch (ExecutionException x) {
            Throwable cause = x.getCause();
            // Not allowed is not broken: rejected with the fix, and escalation does not count it.
            o = Privilege.deniedBy(cause).map(why -> new StepOutcome(Result.REJECTED, why))
                    .orElseGet(() -> StepOutcome.failed(cause.getClass().getSimpleName() + ": " + cause.getMessage()));
        } catch (InterruptedException x) {
            f.cancel(true);
            Thread.currentThread().interrupt();
            o = StepOutcome.failed("the agent is stopping");
        }
        log.append(e.line(s, o, millisSince(t0)));
        steps.announce(e, s, o);
        return o;
    }

    static long millisSince(long t0) {
        return (System.nanoTime() - t0) / 1_000_000;
    }
}
