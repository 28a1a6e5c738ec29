package io.gpuagent.agent.recovery;

import io.gpuagent.agent.health.GpuHealth;
import io.gpuagent.agent.health.HealthEngine;
import io.gpuagent.agent.health.HealthListener;
import io.gpuagent.agent.health.HealthModel;
import io.gpuagent.agent.health.detect.HealthState;
import io.gpuagent.agent.health.detect.XidClass;
import io.gpuagent.agent.journal.AgentEvent;
import io.gpuagent.agent.journal.EventLog;
import io.gpuagent.agent.sampler.SamplerService;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * The automatic path of recovery: listens to the health model; when a GPU turns UNHEALTHY or LOST (or a fatal
 * XID arrives) it waits for the storm to settle, looks up the {@link RecoveryPolicy}, applies
 * {@link Escalation}, and in observe mode records what it would do, in enforce mode starts it on the
 * {@link ActionRunner}; nothing while the {@link NodeBreaker} is open. A power cap is lifted once the GPU is
 * HEALTHY again. Its own thread ({@code recovery-dispatch}) does the work, so the health lock is never held
 * while anything acts.
 */
final class AutomaticRecovery implements HealthListener {

    private static final Logger LOG = Logger.getLogger(AutomaticRecovery.class);

    private enum Kind { RECOVER, RESTORE_POWER }

    private record Pending(Kind kind, String uuid, long atNanos) {
    }

    private final RecoveryConfig config;
    private final Clock clock;
    private final HealthModel health;
    private final SamplerService sampler;
    private final EventLog events;
    private volatile RecoveryPolicy policy;   // replaced whole by a configuration reload
    private final Escalation escalation;
    private final NodeBreaker breaker;
    private final GpuLanes lanes;
    private final StepRunner steps;
    private final ActionLog log;
    private final ActionRunner runner;
    private final BlockingQueue<Pending> pending = new LinkedBlockingQueue<>();
    private final Thread dispatcher;
    private volatile boolean closed;

    AutomaticRecovery(RecoveryConfig config, HealthModel health, SamplerService sampler, EventLog events,
                      RecoveryPolicy policy, Escalation escalation, NodeBreaker breaker, GpuLanes lanes, StepRunner steps,
                      ActionLog log, ActionRunner runner, Clock clock) {
        this.config = config;
        this.clock = clock;
        this.health = health;
        this.sampler = sampler;
        this.events = events;
        this.policy = policy;
        this.escalation = escalation;
        this.breaker = breaker;
        this.lanes = lanes;
        this.steps = steps;
        this.log = log;
        this.runner = runner;
        this.dispatcher = Thread.ofPlatform().name("recovery-dispatch").daemon().start(this::dispatchLoop);
    }


    /** The policy rows from a configuration reload, for the faults planned from now on (an action running keeps its plan). */
    void policy(RecoveryPolicy next) {
        policy = next;
    }
    void stop() {
        closed = true;
        dispatcher.interrupt();
    }

    // ---- health listener: runs under the health lock, so it only counts and queues ----

    @Override
    public void onChange(HealthEngine.Change change) {
        GpuHealth g = change.gpu();
        if (change.worse() && fatal(g.state())) {
            breaker.onFatal(g.uuid(), clock.instant(), sampler.latest().gpus().size());
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
        Execution e = new Execution(ActionKind.RECOVER, Target.of(sampler.latest(), g.index(), uuid), Trigger.policy(plan.get().code()), reason,
                adjusted.steps(), false);
        if (config.mode() == RecoveryMode.OBSERVE) {
            String note = "observe mode: nothing was changed; gpu-agent.recovery.mode=enforce would run these steps"
                    + (breaker.isOpen() ? " (but the node breaker is open: " + breaker.openReason() + ")" : "");
            for (Step s : e.steps) {
                String n = s == Step.DRAIN ? steps.kubernetesPreview(uuid).map(k -> note + "; in Kubernetes it " + k)
                        .orElse(note) : note;
                StepOutcome o = new StepOutcome(Result.RECOMMENDED, n);
                log.append(e.line(s, o, null));
                steps.announce(e, s, o);
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
        Execution e = new Execution(ActionKind.POWER_RESTORE, Target.of(sampler.latest(), g.get().index(), uuid), Trigger.policy("HEALTHY"),
                "the GPU is HEALTHY again", List.of(Step.POWER_RESTORE), false);
        Optional<GpuLanes.Lane> lane = lanes.tryAcquire(uuid, e.actionId);
        if (lane.isEmpty()) {
            log.append(e.line(Step.REQUEST, Result.SKIPPED, null, "action " + lanes.holder(uuid).orElse("?")
                    + " is in progress on this GPU; the power cap stays until the GPU turns HEALTHY again"));
            return;
        }
        runner.start(e, lane.get());
    }
}
