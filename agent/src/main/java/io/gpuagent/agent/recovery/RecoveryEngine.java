package io.gpuagent.agent.recovery;

import io.gpuagent.agent.AgentConfig;
import io.gpuagent.agent.AgentRegistry;
import io.gpuagent.agent.health.GpuHealth;
import io.gpuagent.agent.health.HealthModel;
import io.gpuagent.agent.journal.EventLog;
import io.gpuagent.agent.kubernetes.NodeDrain;
import io.gpuagent.agent.lease.Cordons;
import io.gpuagent.agent.lease.GpuLeases;
import io.gpuagent.agent.nvml.ShutdownOrder;
import io.gpuagent.agent.sampler.SamplerService;
import io.gpuagent.agent.refusal.Refusal;
import io.micrometer.core.instrument.Gauge;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.Startup;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.jboss.logging.Logger;

/**
 * The recovery engine (docs/recovery.md): builds the rails from the audit log at start and serves the operator
 * path (requests from the API: cordon, uncordon, drain, reset, clear, breaker reset, status). The automatic
 * path, from the health model's faults through the {@link RecoveryPolicy} and {@link Escalation}, is
 * {@link AutomaticRecovery}. Both go through the same rails: one action at a time per GPU ({@link GpuLanes}),
 * run by the {@link ActionRunner} with every step audited ({@link ActionLog}) and done by the
 * {@link StepRunner}, resets rate-limited ({@link ResetRateLimit}); only the automatic path stops while the
 * {@link NodeBreaker} is open.
 */
@Startup
@ApplicationScoped
public class RecoveryEngine {

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

    private final RecoveryConfig config;
    private final Clock clock;
    private final HealthModel health;
    private final SamplerService sampler;
    private final ActionAudit audit;
    private final Cordons cordons;
    private volatile RecoveryPolicy policy;   // replaced whole by a configuration reload
    private final Escalation escalation;
    private final ResetRateLimit rateLimit;
    private final NodeBreaker breaker;
    private final GpuLanes lanes = new GpuLanes();
    private final StepRunner steps;
    private final ActionLog log;
    private final ActionRunner runner;
    private final AutomaticRecovery automatic;

    public RecoveryEngine(RecoveryConfig config, AgentConfig agent, HealthModel health, SamplerService sampler,
                          AgentRegistry agentRegistry, ActionAudit audit, Cordons cordons, GpuLeases leases,
                          Commands commands, ProcessSignals signals, NvmlWrites nvmlWrites, EventLog events, GpuReset gpuReset,
                          NodeDrain kubernetes, Clock clock) {
        this.config = config;
        this.clock = clock;
        this.health = health;
        this.sampler = sampler;
        this.audit = audit;
        this.cordons = cordons;
        this.policy = new RecoveryPolicy(config.policy());
        this.escalation = new Escalation(config.resetsBeforeReboot(), config.rebootsBeforeInspection());
        this.rateLimit = new ResetRateLimit(config.resetLimit(), config.resetWindow());
        this.breaker = new NodeBreaker(config.breakerWindow());
        this.steps = new StepRunner(config, agent, health, sampler, cordons, leases, commands, signals, nvmlWrites,
                gpuReset, kubernetes, clock);
        this.log = new ActionLog(audit, escalation, rateLimit);
        this.runner = new ActionRunner(config, cordons, breaker, rateLimit, log, steps, clock);
        for (ActionRecord r : audit.replayed()) {
            log.replayed(r);
            steps.restore(r);
        }
        Gauge.builder(BREAKER_OPEN, breaker, b -> b.isOpen() ? 1 : 0)
                .description("1 while the node circuit breaker stops automatic recovery (more than half the GPUs "
                        + "failed within the window); POST /v1/recovery/breaker/reset closes it.")
                .strongReference(true).register(agentRegistry.registry());
        Gauge.builder(REBOOT_REQUESTED, steps, s -> s.rebootRequested() ? 1 : 0)
                .description("1 once recovery asked for a node reboot (see /v1/actions); 0 after the agent restarts.")
                .strongReference(true).register(agentRegistry.registry());
        LOG.infof("recovery: mode %s, %s, resets %s per GPU, drain deadline %s (%s), breaker window %s, "
                        + "cordoned from the audit log: %d", config.mode().name().toLowerCase(),
                config.privilegedSocket().map(p -> "reset, power and clock steps through gpu-agent-privileged at " + p)
                        .orElse("reset command '" + config.resetCommand() + "', power and clock writes in-process"),
                rateLimit.describe(), config.drainDeadline(), config.drainOnDeadline().name().toLowerCase(),
                config.breakerWindow(), cordons.all().size());
        if (config.mode() == RecoveryMode.OBSERVE) {
            LOG.info("recovery is in observe mode: faults are recorded with the action enforce mode would take "
                    + "(GET /v1/actions); set gpu-agent.recovery.mode=enforce to let the agent act");
        }
        this.automatic = new AutomaticRecovery(config, health, sampler, events, policy, escalation, breaker, lanes, steps,
                log, runner, clock);
        health.addListener(automatic);
        health.addListener(new NodeCordon(policy, cordons, sampler, config.mode(), clock));
    }

    /**
     * Checks the policy rows of {@code next} ({@code gpu-agent.recovery.policy.*}) and returns how to put them in
     * force; nothing changes until it runs. A row that does not parse throws; so, in enforce mode with the
     * privilege check on, does a policy whose steps this process lacks the privileges or programs for (the check
     * start-up makes). Actions already running keep their plan.
     */
    public Runnable preparePolicy(RecoveryConfig next) {
        RecoveryPolicy rows = new RecoveryPolicy(next.policy());
        if (config.mode() == RecoveryMode.ENFORCE && config.privilegeCheck()) {
            List<String> missing = PrivilegeCheck.missing(next, Privilege.effectiveCapabilities(), PrivilegeCheck::onPath);
            if (!missing.isEmpty()) {
                throw new IllegalArgumentException("the new recovery policy needs what the agent lacks: "
                        + String.join("; and ", missing));
            }
        }
        return () -> {
            policy = rows;
            automatic.policy(rows);
            LOG.infof("recovery policy after a configuration reload: %s", rows.describe());
        };
    }

    void stop(@Observes @Priority(ShutdownOrder.RECOVERY) ShutdownEvent event) {
        automatic.stop();
        runner.stop();
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
                    Optional<String> no = runner.resetRefusal(e, clock.instant());
                    if (no.isPresent()) {
                        lane.get().close();
                        Optional<Instant> until = rateLimit.blockedUntil(target.uuid(), clock.instant());
                        throw refuse(e, no.get(), until.orElse(null));
                    }
                }
                yield new Submission.Accepted(ActionView.of(List.of(runner.start(e, lane.get()))));
            }
            case DIAGNOSE -> {
                Execution e = new Execution(ActionKind.DIAGNOSE, target, trigger, reason, List.of(Step.DIAGNOSE), force);
                Optional<String> no = runner.diagnoseRefusal(e);
                if (no.isPresent()) {
                    throw refuse(e, no.get(), null);
                }
                Optional<GpuLanes.Lane> lane = lanes.tryAcquire(target.uuid(), e.actionId);
                if (lane.isEmpty()) {
                    String holder = lanes.holder(target.uuid()).orElse("?");
                    throw refuse(e, "action " + holder + " is in progress on GPU " + target.index()
                            + "; one action at a time per GPU: follow it at /v1/actions/" + holder, null);
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
        return Target.of(sampler.latest(), index, uuid);
    }
}
