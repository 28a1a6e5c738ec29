package io.gpuagent.agent.recovery;

import io.gpuagent.agent.AgentConfig;
import io.gpuagent.agent.SamplerService;
import io.gpuagent.agent.health.GpuHealth;
import io.gpuagent.agent.health.HealthEngine;
import io.gpuagent.agent.health.HealthListener;
import io.gpuagent.agent.health.HealthModel;
import io.gpuagent.agent.health.HealthState;
import io.gpuagent.agent.health.detect.XidClass;
import io.gpuagent.agent.journal.AgentEvent;
import io.gpuagent.agent.journal.EventLog;
import io.gpuagent.agent.lease.GpuLeases;
import io.gpuagent.agent.nvml.ShutdownOrder;
import io.gpuagent.agent.refusal.Refusal;
import io.micrometer.core.instrument.Gauge;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.Startup;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * The recovery engine (docs/recovery.md). Listens to the health model; when a GPU turns UNHEALTHY or LOST (or a
 * fatal XID arrives) it looks up the {@link RecoveryPolicy}, applies {@link Escalation}, and in observe mode
 * records what it would do, in enforce mode does it: one action at a time per GPU ({@link GpuLanes}), run by
 * the {@link ActionRunner} with every step audited ({@link ActionLog}) and done by the {@link StepRunner},
 * resets rate-limited ({@link ResetRateLimit}), nothing automatic while the {@link NodeBreaker} is open.
 * Operator requests from the API go through the same lanes and rails.
 */
@Startup
@ApplicationScoped
public class RecoveryEngine implements HealthListener {

    private static final Logger LOG = Logger.getLogger(RecoveryEngine.class);
    static final String BREAKER_OPEN = "gpu_agent.recovery.breaker.open";
    static final String REBOOT_REQUESTED = "gpu_agent.reboot.requested";

    /** What an operator request came to when it was not refused. */
    public sealed interface Submission {
        /** Done already (cordon, uncordon, clear): 200. */
        record Done(ActionView action) implements Submission {
        }

        /** Accepted and running (drain, reset): 202; follow {@code action.statusUrl()}. */
        record Accepted(ActionView action) implements Submission {
        }
    }

    private enum Kind { RECOVER, RESTORE_POWER }

    private record Pending(Kind kind, String uuid, long atNanos) {
    }

    private final RecoveryConfig config;
    private final HealthModel health;
    private final SamplerService sampler;
    private final ActionAudit audit;
    private final Cordons cordons;
    private final EventLog events;
    private final RecoveryPolicy policy;
    private final Escalation escalation;
    private final ResetRateLimit rateLimit;
    private final NodeBreaker breaker;
    private final GpuLanes lanes = new GpuLanes();
    private final StepRunner steps;
    private final ActionLog log;
    private final ActionRunner runner;
    private final BlockingQueue<Pending> pending = new LinkedBlockingQueue<>();
    private final Thread dispatcher;
    private volatile boolean closed;

    public RecoveryEngine(RecoveryConfig config, AgentConfig agent, HealthModel health, SamplerService sampler,
                          ActionAudit audit, Cordons cordons, GpuLeases leases, Commands commands, ProcessSignals signals,
                          NvmlWrites nvmlWrites, EventLog events, GpuReset gpuReset) {
        this.config = config;
        this.health = health;
        this.sampler = sampler;
        this.audit = audit;
        this.cordons = cordons;
        this.events = events;
        this.policy = new RecoveryPolicy(config.policy());
        this.escalation = new Escalation(config.resetsBeforeReboot(), config.rebootsBeforeInspection());
        this.rateLimit = new ResetRateLimit(config.resetLimit(), config.resetWindow());
        this.breaker = new NodeBreaker(config.breakerWindow());
        this.steps = new StepRunner(config, agent, health, sampler, cordons, leases, commands, signals, nvmlWrites,
                gpuReset);
        this.log = new ActionLog(audit, escalation, rateLimit);
        this.runner = new ActionRunner(config, cordons, breaker, rateLimit, log, steps);
        for (ActionRecord r : audit.replayed()) {
            log.replayed(r);
            steps.restore(r);
        }
        Gauge.builder(BREAKER_OPEN, breaker, b -> b.isOpen() ? 1 : 0)
                .description("1 while the node circuit breaker stops automatic recovery (more than half the GPUs "
                        + "failed within the window); POST /v1/recovery/breaker/reset closes it.")
                .strongReference(true).register(sampler.agentRegistry());
        Gauge.builder(REBOOT_REQUESTED, steps, s -> s.rebootRequested() ? 1 : 0)
                .description("1 once recovery asked for a node reboot (see /v1/actions); 0 after the agent restarts.")
                .strongReference(true).register(sampler.agentRegistry());
        LOG.infof("recovery: mode %s, reset command '%s', resets %s per GPU, drain deadline %s (%s), breaker window %s, "
                        + "cordoned from the audit log: %d", config.mode().name().toLowerCase(), config.resetCommand(),
                rateLimit.describe(), config.drainDeadline(), config.drainOnDeadline().name().toLowerCase(),
                config.breakerWindow(), cordons.all().size());
        if (config.mode() == RecoveryMode.OBSERVE) {
            LOG.info("recovery is in observe mode: faults are recorded with the action enforce mode would take "
                    + "(GET /v1/actions); set gpu-agent.recovery.mode=enforce to let the agent act");
        }
        this.dispatcher = Thread.ofPlatform().name("recovery-dispatch").daemon().start(this::dispatchLoop);
        health.addListener(this);
    }

    void stop(@Observes @Priority(ShutdownOrder.RECOVERY) ShutdownEvent event) {
        closed = true;
        dispatcher.interrupt();
        runner.stop();
    }

    // ---- health listener: runs under the health lock, so it only counts and queues ----

    @Override
    public void onChange(HealthEngine.Change change) {
        GpuHealth g = change.gpu();
        if (change.worse() && fatal(g.state())) {
            breaker.onFatal(g.uuid(), Instant.now(), sampler.latest().gpus().size());
            pending.offer(new Pending(Kind.RECOVER, g.uuid(), System.nanoTime()));
        } else if (g.state() == HealthState.HEALTHY && steps.powerCapped(g.uuid())) {
            pending.offer(new Pending(Kind.RESTORE_POWER, g.uuid(), System.nanoTime()));
        }
    }

    @Override
    public void onXid(GpuHealth gpu, int xid, XidClass xidClass) {
        if (xidClass == XidClass.FATAL || xidClass == XidClass.LOST) {
            pending.offer(new Pending(Kind.RECOVER, gpu.uuid(), System.nanoTime()));
        }
    }

    private static boolean fatal(HealthState s) {
        return s == HealthState.UNHEALTHY || s == HealthState.LOST;
    }

    // ---- automatic actions ----

    private void dispatchLoop() {
        while (!closed) {
            try {
                Pending first = pending.take();
                // Let a storm arrive in full (one sweep judges every GPU), so the breaker sees it before anything acts.
                long wait = first.atNanos() + config.settle().toNanos() - System.nanoTime();
                if (wait > 0) {
                    TimeUnit.NANOSECONDS.sleep(wait);
                }
                List<Pending> batch = new ArrayList<>();
                batch.add(first);
                pending.drainTo(batch);
                announceBreaker();
                Map<String, Pending> unique = new LinkedHashMap<>();
                batch.forEach(p -> unique.putIfAbsent(p.kind() + "/" + p.uuid(), p));
                for (Pending p : unique.values()) {
                    try {
                        if (p.kind() == Kind.RECOVER) {
                            recover(p.uuid());
                        } else {
                            restorePower(p.uuid());
                        }
                    } catch (RuntimeException e) {
                        LOG.errorf(e, "recovery for GPU %s could not start (%s); it stays as it is, see the audit log "
                                + "and GET /v1/actions", p.uuid(), e.getMessage());
                    }
                }
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private void announceBreaker() {
        String why = breaker.takeNewlyOpened();
        if (why == null) {
            return;
        }
        String message = "node circuit breaker open: " + why + ". Automatic recovery stops (operator requests still "
                + "run); check the driver (nvidia-smi, dmesg), then POST /v1/recovery/breaker/reset";
        LOG.error(message);
        try {
            events.append(AgentEvent.of(null, null, AgentEvent.ACTION, "recovery", "breaker_open", message));
        } catch (RuntimeException e) {
            LOG.errorf("could not record the breaker event: %s", e.getMessage());
        }
    }

    private void recover(String uuid) {
        Optional<GpuHealth> found = health.gpus().stream().filter(g -> g.uuid().equals(uuid)).findFirst();
        if (found.isEmpty() || !fatal(found.get().state())) {
            return;   // recovered by itself within the settle time, or gone
        }
        GpuHealth g = found.get();
        Optional<RecoveryPolicy.Plan> plan = policy.planFor(g);
        if (plan.isEmpty()) {
            LOG.debugf("GPU %d (%s) is %s; the policy has no steps for its reasons", g.index(), uuid, g.state());
            return;
        }
        Escalation.Adjusted adjusted = escalation.adjust(uuid, plan.get().code(), plan.get().steps());
        String reason = plan.get().why() + (adjusted.why() == null ? "" : "; escalated: " + adjusted.why());
        Execution e = new Execution(ActionKind.RECOVER, target(g.index(), uuid), Trigger.policy(plan.get().code()), reason,
                adjusted.steps(), false);
        if (config.mode() == RecoveryMode.OBSERVE) {
            String note = "observe mode: nothing was changed; gpu-agent.recovery.mode=enforce would run these steps"
                    + (breaker.isOpen() ? " (but the node breaker is open: " + breaker.openReason() + ")" : "");
            for (Step s : e.steps) {
                log.append(e.line(s, Result.RECOMMENDED, null, note));
            }
            return;
        }
        if (steps.awaitsInspection(uuid) && !e.steps.contains(Step.INSPECT_HARDWARE)) {
            log.append(e.line(Step.REQUEST, Result.SKIPPED, null, "the GPU awaits hardware inspection and stays cordoned; "
                    + "an operator uncordon (POST /v1/gpus/" + g.index() + "/uncordon) lets recovery act on it again"));
            return;
        }
        if (breaker.isOpen()) {
            log.append(e.line(Step.REQUEST, Result.SKIPPED, null, "node breaker open (" + breaker.openReason()
                    + "); would run " + ActionRunner.labels(e.steps) + "; close it with POST /v1/recovery/breaker/reset"));
            return;
        }
        Optional<GpuLanes.Lane> lane = lanes.tryAcquire(uuid, e.actionId);
        if (lane.isEmpty()) {
            log.append(e.line(Step.REQUEST, Result.SKIPPED, null, "action " + lanes.holder(uuid).orElse("?")
                    + " is in progress on this GPU"));
            return;
        }
        runner.start(e, lane.get());
    }

    private void restorePower(String uuid) {
        Optional<GpuHealth> g = health.gpus().stream().filter(h -> h.uuid().equals(uuid)).findFirst();
        if (g.isEmpty() || g.get().state() != HealthState.HEALTHY || !steps.powerCapped(uuid)) {
            return;
        }
        Execution e = new Execution(ActionKind.POWER_RESTORE, target(g.get().index(), uuid), Trigger.policy("HEALTHY"),
                "the GPU is HEALTHY again", List.of(Step.POWER_RESTORE), false);
        Optional<GpuLanes.Lane> lane = lanes.tryAcquire(uuid, e.actionId);
        if (lane.isEmpty()) {
            log.append(e.line(Step.REQUEST, Result.SKIPPED, null, "action " + lanes.holder(uuid).orElse("?")
                    + " is in progress on this GPU; the power cap stays until the GPU turns HEALTHY again"));
            return;
        }
        runner.start(e, lane.get());
    }

    // ---- operator requests ----

    /**
     * An operator request from the API: {@code cordon}, {@code uncordon} (done at once), {@code drain} or
     * {@code reset} (accepted, then run; a reset needs the GPU drained unless {@code force}). Acts in both
     * modes and while the node breaker is open: observe mode only stops the agent from acting by itself.
     *
     * @throws Refusal.Conflict    another action holds the GPU, or it is not drained for a reset (audited)
     * @throws Refusal.RateLimited the reset rate limit stands in the way (audited)
     * @throws Refusal.NotRecorded the audit log cannot be written, so nothing was done
     */
    public Submission operator(Step action, Target target, String who, String reason, boolean force) {
        try {
            return submit(action, target, Trigger.operator(who), reason, force);
        } catch (UncheckedIOException e) {
            throw new Refusal.NotRecorded(e.getMessage()
                    + "; the audit log in gpu-agent.state-dir must be writable (disk full? read-only?)", e);
        }
    }

    private Submission submit(Step action, Target target, Trigger trigger, String reason, boolean force) {
        return switch (action) {
            case CORDON, UNCORDON -> {
                Execution e = new Execution(ActionKind.of(action), target, trigger, reason, List.of(action), force);
                // An uncordon while an action holds the GPU (a drain waiting for its lease) would let a new lease
                // in that the drain then ends: it waits for the lane like any action. A cordon is always safe.
                Optional<GpuLanes.Lane> lane = action == Step.UNCORDON ? lanes.tryAcquire(target.uuid(), e.actionId)
                        : Optional.empty();
                if (action == Step.UNCORDON && lane.isEmpty()) {
                    String holder = lanes.holder(target.uuid()).orElse("?");
                    throw refuse(e, "action " + holder + " is in progress on GPU " + target.index()
                            + "; the GPU stays cordoned until it ends: follow it at /v1/actions/" + holder
                            + ", then uncordon", null);
                }
                try {
                    long t0 = System.nanoTime();
                    log.append(e.line(action, Result.STARTED, null, null));   // on disk before the cordon changes
                    StepOutcome o = action == Step.CORDON ? steps.cordon(e) : steps.uncordon(e);
                    ActionRecord done = log.append(e.line(action, o.result(), ActionRunner.millisSince(t0), o.detail()));
                    yield new Submission.Done(ActionView.of(List.of(done)));
                } finally {
                    lane.ifPresent(GpuLanes.Lane::close);
                }
            }
            case DRAIN, RESET -> {
                List<Step> plan = action == Step.DRAIN ? List.of(Step.CORDON, Step.DRAIN) : List.of(Step.CORDON, Step.RESET);
                Execution e = new Execution(ActionKind.of(action), target, trigger, reason, plan, force);
                Optional<GpuLanes.Lane> lane = lanes.tryAcquire(target.uuid(), e.actionId);
                if (lane.isEmpty()) {
                    String holder = lanes.holder(target.uuid()).orElse("?");
                    throw refuse(e, "action " + holder + " is in progress on GPU " + target.index()
                            + "; one action at a time per GPU: follow it at /v1/actions/" + holder, null);
                }
                if (action == Step.RESET) {
                    Optional<String> no = runner.resetRefusal(e, Instant.now());
                    if (no.isPresent()) {
                        lane.get().close();
                        Optional<Instant> until = rateLimit.blockedUntil(target.uuid(), Instant.now());
                        throw refuse(e, no.get(), until.orElse(null));
                    }
                }
                yield new Submission.Accepted(ActionView.of(List.of(runner.start(e, lane.get()))));
            }
            default -> throw new IllegalArgumentException("the API cannot request " + action.label());
        };
    }

    /**
     * An operator clear of the GPU's health state (POST /v1/gpus/{id}/health/clear), audited: {@code who} as the
     * event log names the clearer, {@code remote} the caller's address.
     */
    public Optional<GpuHealth> clear(int index, String uuid, String who, String remote, String why) {
        long t0 = System.nanoTime();
        Execution e = new Execution(ActionKind.CLEAR, target(index, uuid), Trigger.operator(remote), why,
                List.of(Step.CLEAR), false);
        log.append(e.line(Step.CLEAR, Result.STARTED, null, null));   // audited before the state changes
        Optional<GpuHealth> after = health.clear(index, uuid, who, why);
        log.append(e.line(Step.CLEAR, after.isPresent() ? Result.SUCCEEDED : Result.FAILED, ActionRunner.millisSince(t0),
                after.map(g -> "health now " + g.state() + (g.reasons().isEmpty() ? "" : ": "
                        + g.reasons().getFirst().message())).orElse("the health model does not know this GPU")));
        return after;
    }

    /** Closes the node breaker (audited); true if it was open. */
    public boolean resetBreaker(String who) {
        String was = breaker.openReason();
        boolean open = breaker.reset();
        Execution e = new Execution(ActionKind.BREAKER_RESET, null, Trigger.operator(who), "operator closed the node breaker",
                List.of(), false);
        log.append(e.line(Step.REQUEST, Result.SUCCEEDED, 0L, open ? "was open: " + was : "was already closed"));
        if (open) {
            LOG.warnf("node circuit breaker closed by %s; automatic recovery resumes", who);
        }
        return open;
    }

    /** The lines of one action still in memory. */
    public Optional<ActionView> action(String actionId) {
        List<ActionRecord> lines = audit.of(actionId);
        return lines.isEmpty() ? Optional.empty() : Optional.of(ActionView.of(lines));
    }

    /** What the engine is doing, for {@code GET /v1/recovery}. */
    public record Status(String mode, boolean breakerOpen, String breakerReason, boolean rebootRequested,
                         List<Cordons.Cordon> cordoned, Map<String, String> busy, Map<String, Long> powerCapped,
                         Set<String> awaitingInspection, Map<String, List<String>> policy) {
    }

    public Status status() {
        Map<String, String> busy = new LinkedHashMap<>();
        sampler.latest().gpus().forEach(g -> lanes.holder(g.uuid()).ifPresent(a -> busy.put(g.uuid(), a)));
        return new Status(config.mode().name().toLowerCase(), breaker.isOpen(), breaker.openReason(),
                steps.rebootRequested(), List.copyOf(cordons.all()), busy, steps.powerCaps(), steps.inspecting(),
                policy.describe());
    }

    public RecoveryMode mode() {
        return config.mode();
    }

    /** Audits the refusal, then returns it to throw: a rate limit when {@code retryAfter} is set, else a conflict. */
    private Refusal refuse(Execution e, String detail, Instant retryAfter) {
        String instance = "/v1/actions/" + log.append(e.line(Step.REQUEST, Result.REJECTED, null, detail)).actionId();
        return retryAfter != null ? new Refusal.RateLimited(detail, instance, retryAfter)
                : new Refusal.Conflict(detail, instance);
    }

    private Target target(int index, String uuid) {
        String pci = sampler.latest().gpu(uuid).map(g -> g.info().pciBusId()).orElse("");
        return new Target(index, uuid, pci);
    }
}
