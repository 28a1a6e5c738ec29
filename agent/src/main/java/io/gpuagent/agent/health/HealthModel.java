package io.gpuagent.agent.health;

import io.gpuagent.agent.AgentRegistry;
import io.gpuagent.agent.health.detect.Detector;
import io.gpuagent.agent.health.detect.HealthState;
import io.gpuagent.agent.health.detect.NodeSample;
import io.gpuagent.agent.health.detect.RepairAction;
import io.gpuagent.agent.health.detect.XidClass;
import io.gpuagent.agent.health.detect.XidDetector;
import io.gpuagent.agent.journal.AgentEvent;
import io.gpuagent.agent.journal.EventLog;
import io.gpuagent.agent.sampler.SamplerService;
import io.gpuagent.agent.sampler.XidLedger;
import io.gpuagent.exporter.Snapshot;
import io.gpuagent.nvml.EventTypes;
import io.gpuagent.nvml.GpuEvent;
import io.gpuagent.nvml.NvmlException;
import io.quarkus.runtime.Startup;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.jboss.logging.Logger;

/**
 * Judges every GPU on each snapshot and each driver event (the detectors of docs/faults.md, through
 * {@link HealthEngine}), and the agent itself on each request. Every state change and every XID goes to the
 * event log and the log; the verdicts are exported as {@code gpu_agent_gpu_health},
 * {@code gpu_agent_recovery_action_recommended} and {@code gpu_agent_xid_errors_total}.
 */
@Startup
@ApplicationScoped
public class HealthModel {

    private static final Logger LOG = Logger.getLogger(HealthModel.class);

    /** The sampler is stuck when it has not published for this many intervals. */
    static final int STUCK_INTERVALS = 3;

    private final SamplerService sampler;
    private final EventLog events;
    private final XidLedger xids;
    private final Clock clock;
    private final HealthEngine engine;
    private final NodeJudge node;
    private final NodeMeters nodeMeters;   // guarded by lock
    private volatile XidDetector xidClasses;
    private final HealthMeters meters;
    private final XidCoalescer repeats;   // guarded by lock
    private final Object lock = new Object();   // one judgement at a time, and its events in that order
    private volatile int mostGpusSeen;
    private final List<HealthListener> listeners = new CopyOnWriteArrayList<>();

    public HealthModel(SamplerService sampler, AgentRegistry agentRegistry, HealthConfig config, EventLog events,
                       XidLedger xids) {
        this.sampler = sampler;
        this.events = events;
        this.xids = xids;
        this.clock = Clock.systemUTC();
        this.engine = new HealthEngine(config, clock);
        this.node = new NodeJudge(NodeJudge.detectors(config), config.hysteresis(), clock.instant());
        this.xidClasses = XidDetector.withOverrides(config.xidClass(), config.xidScope());
        this.meters = new HealthMeters(agentRegistry.registry(), engine::byUuid, engine::migByUuid);
        this.nodeMeters = new NodeMeters(agentRegistry.registry(), node::health);
        this.repeats = new XidCoalescer(config.xidRepeatWindow());
        LOG.infof("health: hysteresis %s, thermal margin %d C / window %s, clocks window %s, rate window %s",
                config.hysteresis(), config.thermalMargin(), config.thermalWindow(), config.clocksWindow(),
                config.rateWindow());
        sampler.onSnapshot(this::judge);   // last: the sampler thread may call it at once
    }

    /**
     * Checks {@code next} by building its detectors and returns how to put them in force; nothing changes
     * until the returned action runs. A value a detector refuses throws its {@code IllegalArgumentException}.
     */
    public Runnable prepare(HealthConfig next) {
        List<Detector> detectors = HealthEngine.detectors(next);
        List<Detector> nodeDetectors = NodeJudge.detectors(next);
        XidDetector classes = XidDetector.withOverrides(next.xidClass(), next.xidScope());
        Duration hysteresis = next.hysteresis();
        Duration repeatWindow = next.xidRepeatWindow();
        if (hysteresis.isNegative() || repeatWindow.isNegative()) {
            throw new IllegalArgumentException("gpu-agent.health.hysteresis and xid-repeat-window must not be negative");
        }
        return () -> {
            synchronized (lock) {   // between two judgements
                engine.reconfigure(detectors, hysteresis);
                node.reconfigure(nodeDetectors, hysteresis);
                xidClasses = classes;
                repeats.window(repeatWindow);
            }
            LOG.infof("health after a configuration reload: hysteresis %s, thermal margin %d C / window %s, clocks "
                    + "window %s, rate window %s", hysteresis, next.thermalMargin(), next.thermalWindow(),
                    next.clocksWindow(), next.rateWindow());
        };
    }

    /** Adds a listener for state changes and XIDs from now on (see {@link HealthListener} for its rules). */
    public void addListener(HealthListener listener) {
        listeners.add(listener);
    }

    /** The class of {@code xid} under the configured table (docs/faults.md#xid-classes defaults plus overrides). */
    public XidClass xidClass(int xid) {
        return xidClasses.classOf(xid);
    }

    void judge(Snapshot snapshot) {
        synchronized (lock) {
            HealthEngine.Judgement judgement = engine.onSnapshot(snapshot);
            mostGpusSeen = Math.max(mostGpusSeen, snapshot.deviceCount());
            meters.sync(engine.gpus(), judgement.vanished(), judgement.vanishedMig());
            judgement.vanished().forEach(xids::forget);
            judgement.vanished().forEach(repeats::forget);
            judgement.vanishedMig().forEach(xids::forget);
            judgement.vanishedMig().forEach(repeats::forget);
            List<AgentEvent> entries = new ArrayList<>(repeats.due(clock.instant()));
            entries.forEach(e -> LOG.warn(e.message()));
            judgement.changes().forEach(c -> entries.add(log(c)));
            judgement.migChanges().forEach(c -> entries.add(log(c)));
            if (!entries.isEmpty()) {
                append(entries);   // one fsync for the sweep
            }
            judgement.changes().forEach(c -> tell(l -> l.onChange(c)));
            judgement.migChanges().forEach(c -> tell(l -> l.onMigChange(c)));
        }
    }

    /**
     * One node sweep (from the node-check thread, docs/node-health.md): the node's verdict is visible to
     * {@link #node()} and /health when this returns; a change is logged, recorded and told to the listeners.
     */
    public void judgeNode(NodeSample sample) {
        synchronized (lock) {
            Optional<NodeJudge.Change> change = node.onSample(sample, clock.instant());
            nodeMeters.sync(node.health(), sample.host());
            change.ifPresent(this::nodeChanged);
        }
    }

    /** Operator clear of the node's reasons not observed right now, sticky ones included. */
    public NodeHealth clearNode(String who, String why) {
        synchronized (lock) {
            NodeJudge.Change c = node.clear("operator", "cleared by " + who + (why == null || why.isBlank() ? ""
                    : " (" + why + ")"), clock.instant());
            nodeChanged(c);
            return c.node();
        }
    }

    private void nodeChanged(NodeJudge.Change c) {
        if (c.worse() && c.node().state() != HealthState.HEALTHY) {
            LOG.warn(c.message());
        } else if (c.previous() != HealthState.INITIALIZING) {
            LOG.info(c.message());
        }
        append(List.of(AgentEvent.stateChange(null, null, c.detector(), c.code(), c.node().state().name(),
                c.previous().name(), c.message())));
        tell(l -> l.onNodeChange(c));
    }

    /** The node's verdict as of the last node sweep (INITIALIZING before it). Never blocks. */
    public NodeHealth node() {
        return node.health();
    }

    /**
     * One driver event (from the event thread). The new state is visible to {@link #gpus()} and /health when
     * this returns; an XID is counted, remembered as the GPU's last XID and recorded, every time. An XID the
     * driver attributes to a GPU or compute instance and whose scope is {@code instance} (docs/faults.md#mig) is
     * judged on that MIG device and recorded as its event (MIG UUID and address).
     */
    public void onEvent(GpuEvent event) {
        if (event.device() == null) {
            LOG.warnf("driver event %s (data %d) names a GPU the agent never opened; ignored",
                    EventTypes.name(event.eventType()), event.eventData());
            return;
        }
        int index = event.device().index();
        Optional<GpuHealth> known = engine.gpu(index, null);
        String uuid = known.map(GpuHealth::uuid).orElseGet(() -> uuidOf(event));
        String name = known.map(GpuHealth::name).orElse("");
        synchronized (lock) {
            HealthEngine.Outcome outcome = engine.onEvent(index, uuid, name, event);
            List<AgentEvent> entries = new ArrayList<>(2);
            int xid = (int) event.eventData();
            XidClass xidClass = xidClasses.classOf(xid);
            boolean recorded = false;
            if (event.isXid()) {
                // DCGM_FI_DEV_XID_ERRORS of the MIG devices it was judged on, else of the GPU (docs/metrics.md#mig)
                if (outcome.judgedOn().isEmpty()) {
                    xids.record(uuid, xid);
                } else {
                    for (MigHealth m : outcome.judgedOn()) {
                        xids.record(uuid, m.uuid(), xid);
                    }
                }
                meters.xid(index, uuid, xid);
                String meaning = XidDetector.meaning(xid);
                String classed = ", classed " + xidClass.name().toLowerCase();
                if (outcome.judgedOn().isEmpty()) {
                    // A repeat of a warning XID only counts: its window's summary event carries it (XidCoalescer).
                    if (xidClass != XidClass.WARNING || repeats.admit(index, uuid, null, null, xid, xidClass, clock.instant())) {
                        recorded = true;
                        String message = "XID " + xid + " (" + meaning + ") on GPU " + index + " (" + uuid + ")" + classed;
                        LOG.warn(message);
                        entries.add(AgentEvent.of(index, uuid, AgentEvent.XID, "xid", Integer.toString(xid), message));
                    }
                }
                for (MigHealth m : outcome.judgedOn()) {
                    if (xidClass != XidClass.WARNING
                            || repeats.admit(index, uuid, m.uuid(), m.address(), xid, xidClass, clock.instant())) {
                        recorded = true;
                        String message = "XID " + xid + " (" + meaning + ") on MIG device " + m.address() + " ("
                                + m.uuid() + ", " + m.profile() + ") of GPU " + index + " (" + uuid + ")" + classed
                                + "; its sibling MIG devices are not affected";
                        LOG.warn(message);
                        entries.add(AgentEvent.of(index, uuid, AgentEvent.XID, "xid", Integer.toString(xid), message)
                                .withMig(m.uuid(), m.address()));
                    }
                }
            }
            outcome.changes().forEach(c -> entries.add(log(c)));
            outcome.migChanges().forEach(c -> entries.add(log(c)));
            if (!entries.isEmpty()) {
                append(entries);   // the XID and the state changes it caused share one fsync
            }
            if (recorded) {   // a repeat leaves DCGM_FI_DEV_XID_ERRORS (the last code) as it was
                sampler.writer().render(sampler.latest());   // re-render it here, not in a scrape
            }
            if (event.isXid() && outcome.judgedOn().isEmpty()) {
                engine.gpu(index, uuid).ifPresent(g -> tell(l -> l.onXid(g, xid, xidClass)));
            }
            outcome.changes().forEach(c -> tell(l -> l.onChange(c)));
            outcome.migChanges().forEach(c -> tell(l -> l.onMigChange(c)));
        }
    }

    /**
     * Operator clear of one GPU, by index or UUID (the other -1 or null): drops its reasons that are not
     * observed right now, sticky ones (fatal XIDs, pending remaps, ...) included; a condition still present
     * stays. Recorded as a state event of detector "operator". Empty when there is no such GPU (a {@code MIG-}
     * UUID included: {@link #clearMig}). Its MIG devices keep their own reasons.
     */
    public Optional<GpuHealth> clear(int index, String uuid, String who, String why) {
        return clearAs("operator", index, uuid, "cleared by " + who + (why == null || why.isBlank() ? "" : " (" + why + ")"));
    }

    /**
     * Operator clear of one MIG device ({@code MIG-...}): drops its own reasons (the XIDs judged on it), sticky
     * ones included; its GPU's reasons, which it inherits, stay until the GPU is cleared or recovers. Recorded
     * as a state event of detector "operator" carrying the MIG UUID and address. Empty when there is no such
     * MIG device.
     */
    public Optional<MigHealth> clearMig(String uuid, String who, String why) {
        String message = "cleared by " + who + (why == null || why.isBlank() ? "" : " (" + why + ")");
        synchronized (lock) {
            repeats.forget(uuid);   // after a clear the next XID shows at once
            Optional<HealthEngine.MigChange> change = engine.clearMig(uuid, "operator", message);
            change.ifPresent(c -> {
                append(List.of(log(c)));
                tell(l -> l.onMigChange(c));
            });
            return change.map(HealthEngine.MigChange::device);
        }
    }

    /**
     * For the recovery engine: {@code action} (e.g. a GPU reset) succeeded on the GPU, so the reasons it
     * repairs go, as with {@link #clear}. Recorded as a state event of detector "recovery".
     */
    public Optional<GpuHealth> recovered(String uuid, RepairAction action) {
        return clearAs("recovery", -1, uuid, action.label() + " succeeded");
    }

    private Optional<GpuHealth> clearAs(String detector, int index, String uuid, String message) {
        synchronized (lock) {
            engine.gpu(index, uuid).ifPresent(g -> repeats.forget(g.uuid()));   // after a clear the next XID shows at once
            Optional<HealthEngine.Outcome> outcome = engine.clear(index, uuid, detector, message);
            outcome.ifPresent(o -> {
                List<AgentEvent> entries = new ArrayList<>();
                o.changes().forEach(c -> entries.add(log(c)));
                o.migChanges().forEach(c -> entries.add(log(c)));
                append(entries);
                o.changes().forEach(c -> tell(l -> l.onChange(c)));
                o.migChanges().forEach(c -> tell(l -> l.onMigChange(c)));
            });
            return outcome.map(o -> o.changes().getFirst().gpu());
        }
    }

    /**
     * The health of the device a lease or placement names: a whole GPU ({@code GPU-...}: {@link GpuHealth}) or a
     * MIG device ({@code MIG-...}: {@link MigHealth}, whose state is the worse of its own and its GPU's). Empty
     * for a UUID the latest judgement does not have. Never blocks.
     */
    public Optional<DeviceHealth> device(String uuid) {
        return engine.device(uuid);
    }

    /** The MIG device with this {@code MIG-} UUID, as of the latest judgement. Never blocks. */
    public Optional<MigHealth> migDevice(String uuid) {
        return Optional.ofNullable(engine.migByUuid(uuid));
    }

    /** Every GPU's health, in index order; a GPU in MIG mode lists its MIG devices' ({@link GpuHealth#migDevices()}). */
    public List<GpuHealth> gpus() {
        return engine.gpus();
    }

    /** The whole picture at {@code now}: the agent's own problems are judged here, at request time. */
    public HealthReport report() {
        Instant now = clock.instant();
        Snapshot snapshot = sampler.latest();
        List<HealthReport.Problem> problems = new ArrayList<>();
        if (!snapshot.nvmlUp()) {
            problems.add(new HealthReport.Problem("nvml", snapshot.nvmlDownReason()));
        }
        Duration interval = sampler.config().sampleInterval();
        Duration sinceSweep = Duration.between(snapshot.takenAt(), now);
        if (sinceSweep.compareTo(interval.multipliedBy(STUCK_INTERVALS)) > 0) {
            problems.add(new HealthReport.Problem("sampler", "no snapshot for " + sinceSweep.toMillis()
                    + " ms (" + STUCK_INTERVALS + " intervals of " + interval.toMillis()
                    + " ms); the sampler is stuck: restart the agent and check NVML (nvidia-smi)"));
        }
        int seen = mostGpusSeen;
        if (snapshot.nvmlUp() && snapshot.deviceCount() < seen) {
            problems.add(new HealthReport.Problem("gpus", "the driver reports " + snapshot.deviceCount()
                    + " GPUs, " + seen + " since the agent started: a GPU vanished; check dmesg for XID 79 and reboot"));
        }
        return HealthReport.of(now, snapshot, sampler.config().nvml().library(), problems, gpus()).withNode(node());
    }

    private static AgentEvent log(HealthEngine.Change c) {
        GpuHealth g = c.gpu();
        if (c.worse() && g.state() != HealthState.HEALTHY) {
            LOG.warn(c.message());
        } else if (c.previous() != HealthState.INITIALIZING) {
            LOG.info(c.message());
        } else {
            LOG.debug(c.message());
        }
        return AgentEvent.stateChange(g.index(), g.uuid(), c.detector(), c.code(), g.state().name(),
                c.previous().name(), c.message());
    }

    private static AgentEvent log(HealthEngine.MigChange c) {
        MigHealth m = c.device();
        if (c.worse() && m.state() != HealthState.HEALTHY) {
            LOG.warn(c.message());
        } else if (c.previous() != HealthState.INITIALIZING) {
            LOG.info(c.message());
        } else {
            LOG.debug(c.message());
        }
        return AgentEvent.stateChange(m.gpu(), m.parentUuid(), c.detector(), c.code(), m.state().name(),
                c.previous().name(), c.message()).withMig(m.uuid(), m.address());
    }

    private void append(List<AgentEvent> entries) {
        try {
            events.appendAll(entries);
        } catch (RuntimeException e) {
            // Health must not fail because the history cannot be written (disk full, read-only state dir).
            LOG.errorf("could not record %d event(s) in the event log (%s): %s", entries.size(), e.getMessage(),
                    entries.getFirst().message());
        }
    }

    private void tell(Consumer<HealthListener> call) {
        for (HealthListener l : listeners) {
            try {
                call.accept(l);
            } catch (RuntimeException e) {
                LOG.errorf(e, "health listener %s failed; it stays registered", l.getClass().getName());
            }
        }
    }

    private static String uuidOf(GpuEvent event) {
        try {
            return event.device().uuid();
        } catch (NvmlException e) {
            return "";
        }
    }
}
