package io.gpuagent.agent.recovery;

import io.gpuagent.agent.AgentConfig;
import io.gpuagent.agent.SamplerService;
import io.gpuagent.agent.health.GpuHealth;
import io.gpuagent.agent.health.HealthEngine;
import io.gpuagent.agent.health.HealthListener;
import io.gpuagent.agent.health.HealthModel;
import io.gpuagent.agent.health.HealthState;
import io.gpuagent.agent.health.RepairAction;
import io.gpuagent.agent.health.detect.XidClass;
import io.gpuagent.agent.journal.AgentEvent;
import io.gpuagent.agent.journal.EventLog;
import io.gpuagent.agent.lease.GpuLeases;
import io.gpuagent.exporter.GpuSample;
import io.gpuagent.exporter.GpuStatus;
import io.gpuagent.exporter.Snapshot;
import io.micrometer.core.instrument.Gauge;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.Startup;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.jboss.logging.Logger;

/**
 * The recovery engine of faults.md. Listens to the health model; when a GPU turns UNHEALTHY or LOST (or a
 * fatal XID arrives) it looks up the {@link RecoveryPolicy}, applies {@link Escalation}, and in observe mode
 * records what it would do, in enforce mode does it: one action at a time per GPU ({@link GpuLanes}), every
 * step bounded by {@code action-timeout} and its own bound, audited before and after ({@link ActionAudit}),
 * resets rate-limited ({@link ResetRateLimit}), nothing automatic while the {@link NodeBreaker} is open.
 * Operator requests from the API go through the same lanes and rails.
 */
@Startup
@ApplicationScoped
public class RecoveryEngine implements HealthListener {

    private static final Logger LOG = Logger.getLogger(RecoveryEngine.class);
    static final String BREAKER_OPEN = "gpu_agent.recovery.breaker.open";
    static final String REBOOT_REQUESTED = "gpu_agent.reboot.requested";
    private static final Pattern CAPPED_FROM = Pattern.compile("^power limit (\\d+) mW ->");

    /** The outcome of one step. */
    record StepOutcome(Result result, String detail) {
        static StepOutcome ok(String detail) {
            return new StepOutcome(Result.SUCCEEDED, detail);
        }

        static StepOutcome failed(String detail) {
            return new StepOutcome(Result.FAILED, detail);
        }
    }

    /** What an operator request came to. */
    public sealed interface Submission {
        /** Done already (cordon, uncordon, clear): 200. */
        record Done(ActionView action) implements Submission {
        }

        /** Accepted and running (drain, reset): 202; follow {@code action.statusUrl()}. */
        record Accepted(ActionView action) implements Submission {
        }

        /** Refused before anything changed; audited. {@code retryAfter} is set for the rate limit. */
        record Refused(int status, String detail, ActionRecord line, Instant retryAfter) implements Submission {
        }
    }

    /** One action in flight. */
    private static final class Execution {
        final String actionId = UUID.randomUUID().toString();
        final String action;
        final Target target;
        final String trigger;
        final String reason;
        final List<Step> steps;
        final boolean force;
        volatile boolean cordonedHere;
        volatile Instant resetEndedAt;

        Execution(String action, Target target, String trigger, String reason, List<Step> steps, boolean force) {
            this.action = action;
            this.target = target;
            this.trigger = trigger;
            this.reason = reason;
            this.steps = withVerify(steps);
            this.force = force;
        }

        boolean byPolicy() {
            return Trigger.policyCode(trigger) != null;
        }

        private static List<Step> withVerify(List<Step> steps) {
            List<Step> out = new ArrayList<>();
            for (Step s : steps) {
                out.add(s);
                if (s == Step.RESET) {
                    out.add(Step.VERIFY);
                }
            }
            return List.copyOf(out);
        }
    }

    /** The lease and processes that keep a GPU from being idle. */
    private record Busy(Optional<GpuLeases.Held> lease, List<Long> pids) {
        boolean idle() {
            return lease.isEmpty() && pids.isEmpty();
        }

        String describe() {
            List<String> parts = new ArrayList<>();
            lease.ifPresent(l -> parts.add("leased by job " + l.jobId() + " (lease " + l.leaseId() + ")"));
            if (!pids.isEmpty()) {
                parts.add("NVML reports processes " + pids);
            }
            return parts.isEmpty() ? "idle" : String.join(", ", parts);
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
    private final GpuLeases leases;
    private final Commands commands;
    private final ProcessSignals signals;
    private final NvmlWrites nvmlWrites;
    private final EventLog events;
    private final String node;
    private final RecoveryPolicy policy;
    private final Escalation escalation;
    private final ResetRateLimit rateLimit;
    private final NodeBreaker breaker;
    private final GpuLanes lanes = new GpuLanes();
    private final CommandTemplate resetCommand;
    private final Optional<CommandTemplate> drainCommand;
    private final Optional<CommandTemplate> rebootCommand;
    private final Map<String, Long> powerCaps = new ConcurrentHashMap<>();   // uuid -> limit before the cap, mW
    private final Set<String> inspecting = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean rebootRequested = new AtomicBoolean();
    private final BlockingQueue<Pending> pending = new LinkedBlockingQueue<>();
    private final ExecutorService plans = Executors.newVirtualThreadPerTaskExecutor();
    private final ExecutorService stepRunner = Executors.newVirtualThreadPerTaskExecutor();
    private final Thread dispatcher;
    private volatile boolean closed;

    public RecoveryEngine(RecoveryConfig config, AgentConfig agent, HealthModel health, SamplerService sampler,
                          ActionAudit audit, Cordons cordons, GpuLeases leases, Commands commands, ProcessSignals signals,
                          NvmlWrites nvmlWrites, EventLog events) {
        this.config = config;
        this.health = health;
        this.sampler = sampler;
        this.audit = audit;
        this.cordons = cordons;
        this.leases = leases;
        this.commands = commands;
        this.signals = signals;
        this.nvmlWrites = nvmlWrites;
        this.events = events;
        this.node = agent.hostname().orElseGet(RecoveryEngine::localHostName);
        this.policy = new RecoveryPolicy(config.policy());
        this.escalation = new Escalation(config.resetsBeforeReboot(), config.rebootsBeforeInspection());
        this.rateLimit = new ResetRateLimit(config.resetLimit(), config.resetWindow());
        this.breaker = new NodeBreaker(config.breakerWindow());
        if (config.powerCapPercent() < 1 || config.powerCapPercent() > 100) {
            throw new IllegalArgumentException("gpu-agent.recovery.power-cap-percent must be 1..100, got "
                    + config.powerCapPercent());
        }
        this.resetCommand = CommandTemplate.parse("gpu-agent.recovery.reset-command", config.resetCommand(),
                Set.of("index", "uuid", "pciBusId"));
        this.drainCommand = config.drainCommand().map(c -> CommandTemplate.parse("gpu-agent.recovery.drain-command", c,
                Set.of("node", "index", "uuid", "pciBusId", "reason")));
        this.rebootCommand = config.rebootCommand().map(c -> CommandTemplate.parse("gpu-agent.recovery.reboot-command",
                c, Set.of("node", "reason")));
        for (ActionRecord r : audit.replayed()) {
            restore(r);
        }
        Gauge.builder(BREAKER_OPEN, breaker, b -> b.isOpen() ? 1 : 0)
                .description("1 while the node circuit breaker stops automatic recovery (more than half the GPUs "
                        + "failed within the window); POST /v1/recovery/breaker/reset closes it.")
                .strongReference(true).register(sampler.agentRegistry());
        Gauge.builder(REBOOT_REQUESTED, rebootRequested, r -> r.get() ? 1 : 0)
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

    void stop(@Observes ShutdownEvent event) {
        closed = true;
        dispatcher.interrupt();
        plans.shutdownNow();
        stepRunner.shutdownNow();
    }

    // ---- health listener: runs under the health lock, so it only counts and queues ----

    @Override
    public void onChange(HealthEngine.Change change) {
        GpuHealth g = change.gpu();
        if (change.worse() && fatal(g.state())) {
            breaker.onFatal(g.uuid(), Instant.now(), sampler.latest().gpus().size());
            pending.offer(new Pending(Kind.RECOVER, g.uuid(), System.nanoTime()));
        } else if (g.state() == HealthState.HEALTHY && powerCaps.containsKey(g.uuid())) {
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
        Execution e = new Execution("recover", target(g.index(), uuid), Trigger.policy(plan.get().code()), reason,
                adjusted.steps(), false);
        if (config.mode() == RecoveryMode.OBSERVE) {
            String note = "observe mode: nothing was changed; gpu-agent.recovery.mode=enforce would run these steps"
                    + (breaker.isOpen() ? " (but the node breaker is open: " + breaker.openReason() + ")" : "");
            for (Step s : e.steps) {
                log(line(e, s, Result.RECOMMENDED, null, note));
            }
            return;
        }
        if (inspecting.contains(uuid) && !e.steps.contains(Step.INSPECT_HARDWARE)) {
            log(line(e, Step.REQUEST, Result.SKIPPED, null, "the GPU awaits hardware inspection and stays cordoned; "
                    + "an operator uncordon (POST /v1/gpus/" + g.index() + "/uncordon) lets recovery act on it again"));
            return;
        }
        if (breaker.isOpen()) {
            log(line(e, Step.REQUEST, Result.SKIPPED, null, "node breaker open (" + breaker.openReason()
                    + "); would run " + labels(e.steps) + "; close it with POST /v1/recovery/breaker/reset"));
            return;
        }
        Optional<GpuLanes.Lane> lane = lanes.tryAcquire(uuid, e.actionId);
        if (lane.isEmpty()) {
            log(line(e, Step.REQUEST, Result.SKIPPED, null, "action " + lanes.holder(uuid).orElse("?")
                    + " is in progress on this GPU"));
            return;
        }
        start(e, lane.get());
    }

    private void restorePower(String uuid) {
        Optional<GpuHealth> g = health.gpus().stream().filter(h -> h.uuid().equals(uuid)).findFirst();
        if (g.isEmpty() || g.get().state() != HealthState.HEALTHY || !powerCaps.containsKey(uuid)) {
            return;
        }
        Execution e = new Execution("power_restore", target(g.get().index(), uuid), Trigger.policy("HEALTHY"),
                "the GPU is HEALTHY again", List.of(Step.POWER_RESTORE), false);
        Optional<GpuLanes.Lane> lane = lanes.tryAcquire(uuid, e.actionId);
        if (lane.isEmpty()) {
            log(line(e, Step.REQUEST, Result.SKIPPED, null, "action " + lanes.holder(uuid).orElse("?")
                    + " is in progress on this GPU; the power cap stays until the GPU turns HEALTHY again"));
            return;
        }
        start(e, lane.get());
    }

    // ---- operator requests ----

    /**
     * An operator request from the API: {@code cordon}, {@code uncordon} (done at once), {@code drain} or
     * {@code reset} (accepted, then run; a reset needs the GPU drained unless {@code force}). Acts in both
     * modes and while the node breaker is open: observe mode only stops the agent from acting by itself.
     */
    public Submission operator(Step action, Target target, String who, String reason, boolean force) {
        String trigger = Trigger.operator(who);
        return switch (action) {
            case CORDON, UNCORDON -> {
                Execution e = new Execution(action.label(), target, trigger, reason, List.of(action), force);
                long t0 = System.nanoTime();
                StepOutcome o = action == Step.CORDON ? cordon(e) : uncordon(e);
                yield new Submission.Done(ActionView.of(List.of(log(line(e, action, o.result(), millisSince(t0), o.detail())))));
            }
            case DRAIN, RESET -> {
                List<Step> steps = action == Step.DRAIN ? List.of(Step.CORDON, Step.DRAIN) : List.of(Step.CORDON, Step.RESET);
                Execution e = new Execution(action.label(), target, trigger, reason, steps, force);
                Optional<GpuLanes.Lane> lane = lanes.tryAcquire(target.uuid(), e.actionId);
                if (lane.isEmpty()) {
                    String holder = lanes.holder(target.uuid()).orElse("?");
                    yield refuse(e, 409, "action " + holder + " is in progress on GPU " + target.index()
                            + "; one action at a time per GPU: follow it at /v1/actions/" + holder, null);
                }
                if (action == Step.RESET) {
                    Optional<String> no = resetRefusal(e, Instant.now());
                    if (no.isPresent()) {
                        lane.get().close();
                        Optional<Instant> until = rateLimit.blockedUntil(target.uuid(), Instant.now());
                        yield refuse(e, until.isPresent() ? 429 : 409, no.get(), until.orElse(null));
                    }
                }
                yield new Submission.Accepted(ActionView.of(List.of(start(e, lane.get()))));
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
        Optional<GpuHealth> after = health.clear(index, uuid, who, why);
        after.ifPresent(g -> {
            Execution e = new Execution(Step.CLEAR.label(), target(g.index(), g.uuid()), Trigger.operator(remote), why,
                    List.of(Step.CLEAR), false);
            log(line(e, Step.CLEAR, Result.SUCCEEDED, millisSince(t0), "health now " + g.state()
                    + (g.reasons().isEmpty() ? "" : ": " + g.reasons().getFirst().message())));
        });
        return after;
    }

    /** Closes the node breaker (audited); true if it was open. */
    public boolean resetBreaker(String who) {
        String was = breaker.openReason();
        boolean open = breaker.reset();
        Execution e = new Execution("breaker_reset", null, Trigger.operator(who), "operator closed the node breaker",
                List.of(), false);
        log(line(e, Step.REQUEST, Result.SUCCEEDED, 0L, open ? "was open: " + was : "was already closed"));
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
                rebootRequested.get(), List.copyOf(cordons.all()), busy, Map.copyOf(powerCaps), Set.copyOf(inspecting),
                policy.describe());
    }

    public RecoveryMode mode() {
        return config.mode();
    }

    // ---- running an action ----

    private Submission.Refused refuse(Execution e, int status, String detail, Instant retryAfter) {
        return new Submission.Refused(status, detail, log(line(e, Step.REQUEST, Result.REJECTED, null, detail)), retryAfter);
    }

    /** Writes the opening line (durable before this returns), then runs the steps on their own thread. */
    private ActionRecord start(Execution e, GpuLanes.Lane lane) {
        ActionRecord opened;
        try {
            opened = log(line(e, Step.REQUEST, Result.STARTED, null, "steps: " + labels(e.steps)
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

    private void run(Execution e) {
        long t0 = System.nanoTime();
        Result overall = Result.SUCCEEDED;
        String detail = "all steps succeeded";
        for (Step s : e.steps) {
            if (e.byPolicy() && breaker.isOpen() && s != Step.CORDON) {
                overall = Result.SKIPPED;
                detail = "node breaker opened (" + breaker.openReason() + "); stopped before " + s.label();
                log(line(e, s, Result.SKIPPED, null, detail));
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
            if (c.isPresent() && (e.cordonedHere || Trigger.policyCode(c.get().by()) != null)) {
                step(e, Step.UNCORDON);
            }
        }
        log(line(e, Step.REQUEST, overall, millisSince(t0), detail));
    }

    /** One step: checks, "started" (durable), the work under the action timeout, the result. */
    private StepOutcome step(Execution e, Step s) {
        if (s == Step.RESET) {
            Optional<String> no = resetRefusal(e, Instant.now());
            if (no.isPresent()) {
                StepOutcome o = new StepOutcome(Result.REJECTED, no.get());
                log(line(e, s, o.result(), null, o.detail()));
                return o;
            }
        }
        log(line(e, s, Result.STARTED, null, null));
        long t0 = System.nanoTime();
        StepOutcome o;
        Future<StepOutcome> f = stepRunner.submit(() -> perform(e, s));
        try {
            o = f.get(config.actionTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException x) {
            f.cancel(true);
            o = new StepOutcome(Result.TIMED_OUT, "still running after gpu-agent.recovery.action-timeout ("
                    + config.actionTimeout() + "); stopped");
        } catch (ExecutionException x) {
            Throwable cause = x.getCause();
            o = StepOutcome.failed(cause.getClass().getSimpleName() + ": " + cause.getMessage());
        } catch (InterruptedException x) {
            f.cancel(true);
            Thread.currentThread().interrupt();
            o = StepOutcome.failed("the agent is stopping");
        }
        log(line(e, s, o.result(), millisSince(t0), o.detail()));
        return o;
    }

    private Optional<String> resetRefusal(Execution e, Instant now) {
        if (!e.force) {
            Busy b = busy(e.target.uuid());
            if (!b.idle()) {
                return Optional.of("GPU " + e.target.index() + " is not drained: " + b.describe() + "; drain it first "
                        + "(POST /v1/gpus/" + e.target.index() + "/drain) or reset anyway with ?force=true");
            }
        }
        return rateLimit.blockedUntil(e.target.uuid(), now).map(t -> "rate limited: at most " + rateLimit.describe()
                + " resets per GPU (gpu-agent.recovery.reset-limit, reset-window); the next reset of GPU "
                + e.target.index() + " is allowed at " + t + ". A GPU that needs more resets needs a reboot or an inspection");
    }

    private StepOutcome perform(Execution e, Step s) throws Exception {
        String uuid = e.target.uuid();
        return switch (s) {
            case CORDON -> cordon(e);
            case UNCORDON -> uncordon(e);
            case DRAIN -> drain(e);
            case TERMINATE -> terminate(e);
            case RESET -> reset(e);
            case VERIFY -> verify(e);
            case POWER_CAP -> powerCap(uuid);
            case POWER_RESTORE -> {
                Long before = powerCaps.get(uuid);
                if (before == null) {
                    yield StepOutcome.ok("no power cap to restore");
                }
                nvmlWrites.setPowerLimit(uuid, before);
                powerCaps.remove(uuid);
                yield StepOutcome.ok("power limit restored to " + before + " mW");
            }
            case RESET_CLOCKS -> StepOutcome.ok(String.join(", ", nvmlWrites.resetClocks(uuid)));
            case REQUEST_REBOOT -> requestReboot(e);
            case INSPECT_HARDWARE -> {
                cordon(e);
                inspecting.add(uuid);
                yield StepOutcome.ok("the GPU stays cordoned for hardware inspection (cooling, cabling, RMA); no further "
                        + "automatic action on it until an operator uncordons it");
            }
            case CLEAR -> {
                GpuHealth g = health.clear(e.target.index(), uuid, e.trigger, e.reason).orElseThrow();
                yield StepOutcome.ok("health now " + g.state());
            }
            case REQUEST -> throw new IllegalArgumentException("not a step");
        };
    }

    private StepOutcome cordon(Execution e) {
        if (cordons.cordon(e.target.uuid(), e.trigger, e.reason, Instant.now())) {
            e.cordonedHere = true;
            return StepOutcome.ok("cordoned: no new leases on this GPU");
        }
        Cordons.Cordon c = cordons.of(e.target.uuid()).orElse(null);
        return StepOutcome.ok(c == null ? "cordoned" : "already cordoned by " + c.by() + " since " + c.since());
    }

    private StepOutcome uncordon(Execution e) {
        boolean was = cordons.uncordon(e.target.uuid());
        if (Trigger.policyCode(e.trigger) == null) {
            inspecting.remove(e.target.uuid());   // an operator looked at it
        }
        return StepOutcome.ok(was ? "uncordoned: the GPU rejoins placement" : "was not cordoned");
    }

    private StepOutcome drain(Execution e) throws Exception {
        String uuid = e.target.uuid();
        cordon(e);
        List<String> notes = new ArrayList<>();
        if (drainCommand.isPresent()) {
            Commands.Outcome o = commands.run(drainCommand.get().argv(vars(e)), config.commandTimeout());
            if (!o.ok()) {
                return StepOutcome.failed("drain command " + o.describe());
            }
            notes.add("drain command " + o.describe());
        }
        long start = System.nanoTime();
        long deadline = start + config.drainDeadline().toNanos();
        Busy b = busy(uuid);
        while (!b.idle() && System.nanoTime() < deadline) {
            Thread.sleep(pollMillis());
            b = busy(uuid);
        }
        if (b.idle()) {
            notes.add("drained after " + millisSince(start) + " ms: no lease, no processes");
            return StepOutcome.ok(String.join("; ", notes));
        }
        if (config.drainOnDeadline() == RecoveryConfig.DrainOnDeadline.ABORT) {
            notes.add("deadline " + config.drainDeadline() + " passed: " + b.describe() + "; the GPU stays cordoned. "
                    + "End the job, or set gpu-agent.recovery.drain-on-deadline=terminate, then drain again");
            return StepOutcome.failed(String.join("; ", notes));
        }
        int ended = leases.endLeasesOn(uuid, "drain deadline passed: " + e.reason);
        StepOutcome t = terminate(e);
        notes.add("deadline " + config.drainDeadline() + " passed: ended " + ended + " lease(s); " + t.detail());
        Busy after = busy(uuid);
        boolean leaseGone = after.lease().isEmpty();
        boolean processesGone = after.pids().stream().noneMatch(RecoveryEngine::alive);
        if (leaseGone && processesGone) {
            return StepOutcome.ok(String.join("; ", notes));
        }
        notes.add("still " + after.describe());
        return StepOutcome.failed(String.join("; ", notes));
    }

    private StepOutcome terminate(Execution e) throws InterruptedException {
        Set<Long> listed = new LinkedHashSet<>(busy(e.target.uuid()).pids());
        if (listed.isEmpty()) {
            return StepOutcome.ok("no processes on the GPU");
        }
        List<ProcessSignals.Outcome> out = signals.terminate(listed, listed, config.terminateGrace());
        String what = out.stream().map(ProcessSignals.Outcome::what).collect(Collectors.joining("; "));
        boolean allGone = out.stream().allMatch(ProcessSignals.Outcome::gone);
        return allGone ? StepOutcome.ok(what) : StepOutcome.failed(what);
    }

    private StepOutcome reset(Execution e) throws Exception {
        Commands.Outcome o = commands.run(resetCommand.argv(vars(e)), config.commandTimeout());
        e.resetEndedAt = Instant.now();
        if (o.timedOut()) {
            return new StepOutcome(Result.TIMED_OUT, "reset command " + o.describe());
        }
        return o.ok() ? StepOutcome.ok("reset command " + o.describe()) : StepOutcome.failed("reset command " + o.describe());
    }

    private StepOutcome verify(Execution e) throws InterruptedException {
        String uuid = e.target.uuid();
        Instant after = e.resetEndedAt == null ? Instant.now() : e.resetEndedAt;
        long deadline = System.nanoTime() + config.verifyTimeout().toNanos();
        GpuSample last = null;
        while (true) {
            Snapshot snap = sampler.latest();
            last = snap.gpu(uuid).orElse(last);
            if (last != null && last.status() == GpuStatus.OK && last.readAt().isAfter(after)) {
                break;
            }
            if (System.nanoTime() > deadline) {
                return StepOutcome.failed("the GPU did not read OK within " + config.verifyTimeout() + " after the reset ("
                        + (last == null ? "not in the driver's list" : "status " + last.status() + ": " + last.statusReason())
                        + ")");
            }
            Thread.sleep(pollMillis());
        }
        Optional<GpuHealth> h = health.recovered(uuid, RepairAction.DRAIN_AND_RESET);
        if (h.isEmpty()) {
            return StepOutcome.failed("the health model no longer knows this GPU");
        }
        if (!h.get().state().serving()) {
            return StepOutcome.failed("the GPU reads OK but is still " + h.get().state() + ": "
                    + h.get().reasons().getFirst().message());
        }
        return StepOutcome.ok("the GPU reads OK again; health " + h.get().state());
    }

    private StepOutcome powerCap(String uuid) {
        long[] limits = nvmlWrites.powerLimits(uuid);   // limit, default, min
        if (powerCaps.containsKey(uuid)) {
            return StepOutcome.ok("already capped at " + limits[0] + " mW");
        }
        long target = Math.max(limits[2], limits[1] * config.powerCapPercent() / 100);
        if (limits[0] <= target) {
            return StepOutcome.ok("the power limit " + limits[0] + " mW is already at or below " + target + " mW ("
                    + config.powerCapPercent() + "% of the default " + limits[1] + " mW)");
        }
        nvmlWrites.setPowerLimit(uuid, target);
        powerCaps.put(uuid, limits[0]);
        return StepOutcome.ok("power limit " + limits[0] + " mW -> " + target + " mW (" + config.powerCapPercent()
                + "% of the default " + limits[1] + " mW); restored when the GPU is HEALTHY again");
    }

    private StepOutcome requestReboot(Execution e) throws Exception {
        rebootRequested.set(true);
        if (rebootCommand.isEmpty()) {
            return StepOutcome.ok("gpu_agent_reboot_requested is 1 and an event is recorded; no "
                    + "gpu-agent.recovery.reboot-command is configured, so the operator or the scheduler reboots " + node);
        }
        Commands.Outcome o = commands.run(rebootCommand.get().argv(vars(e)), config.commandTimeout());
        return o.ok() ? StepOutcome.ok("reboot command " + o.describe()) : StepOutcome.failed("reboot command " + o.describe());
    }

    // ---- helpers ----

    private Busy busy(String uuid) {
        List<Long> pids = sampler.latest().gpu(uuid).map(GpuSample::processes).orElse(List.of()).stream()
                .map(p -> (long) p.pid()).distinct().toList();
        return new Busy(leases.leaseOn(uuid), pids);
    }

    private static boolean alive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    private Map<String, String> vars(Execution e) {
        Map<String, String> v = new LinkedHashMap<>();
        v.put("index", Integer.toString(e.target.index()));
        v.put("uuid", e.target.uuid());
        v.put("pciBusId", e.target.pciBusId());
        v.put("node", node);
        v.put("reason", e.reason == null ? "" : e.reason);
        return v;
    }

    private Target target(int index, String uuid) {
        String pci = sampler.latest().gpu(uuid).map(g -> g.info().pciBusId()).orElse("");
        return new Target(index, uuid, pci);
    }

    private long pollMillis() {
        return Math.clamp(sampler.config().sampleInterval().toMillis() / 2, 50, 1000);
    }

    private ActionRecord line(Execution e, Step s, Result r, Long durationMs, String detail) {
        return new ActionRecord(0, null, e.actionId, e.action, s.label(), e.target == null ? null : e.target.index(),
                e.target == null ? null : e.target.uuid(), e.trigger, e.reason, r, durationMs, detail);
    }

    /** Appends a line (durable when this returns) and keeps the rails' counts in step with it. */
    private ActionRecord log(ActionRecord line) {
        ActionRecord stored = audit.append(line);
        escalation.record(stored);
        if (stored.step().equals(Step.RESET.label()) && stored.result() == Result.STARTED) {
            rateLimit.record(stored.uuid(), stored.time());
        }
        return stored;
    }

    /** Rebuilds the rails from one line of the audit log at start. */
    private void restore(ActionRecord r) {
        escalation.record(r);
        if (r.uuid() == null) {
            return;
        }
        Step s = stepOf(r.step());
        if (s == Step.RESET && r.result() == Result.STARTED) {
            rateLimit.record(r.uuid(), r.time());
        }
        boolean cordoning = (s == Step.DRAIN && r.result() == Result.STARTED)
                || ((s == Step.CORDON || s == Step.INSPECT_HARDWARE) && r.result() == Result.SUCCEEDED);
        if (cordoning) {
            cordons.cordon(r.uuid(), r.trigger(), r.reason(), r.time());
        }
        if (s == Step.UNCORDON && r.result() == Result.SUCCEEDED) {
            cordons.uncordon(r.uuid());
            inspecting.remove(r.uuid());
        }
        if (s == Step.INSPECT_HARDWARE && r.result() == Result.SUCCEEDED) {
            inspecting.add(r.uuid());
        }
        if (s == Step.POWER_CAP && r.result() == Result.SUCCEEDED && r.detail() != null) {
            Matcher m = CAPPED_FROM.matcher(r.detail());
            if (m.find()) {
                powerCaps.put(r.uuid(), Long.parseLong(m.group(1)));
            }
        }
        if (s == Step.POWER_RESTORE && r.result() == Result.SUCCEEDED) {
            powerCaps.remove(r.uuid());
        }
    }

    private static Step stepOf(String label) {
        for (Step s : Step.values()) {
            if (s.label().equals(label)) {
                return s;
            }
        }
        return null;
    }

    private static String labels(List<Step> steps) {
        return steps.stream().map(Step::label).collect(Collectors.joining(", "));
    }

    private static long millisSince(long t0) {
        return (System.nanoTime() - t0) / 1_000_000;
    }

    private static String localHostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "localhost";
        }
    }
}
