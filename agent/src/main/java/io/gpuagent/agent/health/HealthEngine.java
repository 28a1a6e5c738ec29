package io.gpuagent.agent.health;

import io.gpuagent.agent.health.detect.ClocksDetector;
import io.gpuagent.agent.health.detect.DcgmDetector;
import io.gpuagent.agent.health.detect.Detector;
import io.gpuagent.agent.health.detect.DriverDetector;
import io.gpuagent.agent.health.detect.EccDetector;
import io.gpuagent.agent.health.detect.Finding;
import io.gpuagent.agent.health.detect.HealthState;
import io.gpuagent.agent.health.detect.LostDetector;
import io.gpuagent.agent.health.detect.NvLinkDetector;
import io.gpuagent.agent.health.detect.PcieDetector;
import io.gpuagent.agent.health.detect.RemapDetector;
import io.gpuagent.agent.health.detect.RetiredPagesDetector;
import io.gpuagent.agent.health.detect.ThermalDetector;
import io.gpuagent.agent.health.detect.XidDetector;
import io.gpuagent.agent.health.detect.XidScope;
import io.gpuagent.exporter.GpuSample;
import io.gpuagent.exporter.GpuStatus;
import io.gpuagent.exporter.MigSample;
import io.gpuagent.exporter.Snapshot;
import io.gpuagent.nvml.GpuEvent;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.jboss.logging.Logger;

/**
 * The detectors and every GPU's and MIG device's {@link GpuTracker}, without CDI, metrics or I/O: snapshots,
 * events and clears go in, state changes come out, and {@link #gpus()} is swapped in whole after each. One call
 * at a time (synchronized); readers of {@link #gpus()} never wait.
 *
 * <p>MIG (docs/faults.md#mig): the detectors judge a GPU in MIG mode as any GPU (everything they read is
 * physical). Each MIG device of its latest sample has a tracker of its own, keyed by its MIG UUID, which takes
 * the XIDs the driver attributes to its GPU or compute instance (when {@link XidDetector#scopeOf} says the XID
 * stays on an instance) and inherits its GPU's reasons: its state is the worse of both. A MIG device missing
 * from a fresh sample of its GPU is forgotten, as is every MIG device of a GPU that vanished.
 */
public final class HealthEngine {

    private static final Logger LOG = Logger.getLogger(HealthEngine.class);

    /**
     * A GPU's state changed (or an operator cleared it). {@code detector}/{@code code} name the cause: the
     * worst reason when the state got worse, the reason that went away when it got better.
     */
    public record Change(GpuHealth gpu, HealthState previous, String detector, String code, String message) {
        public boolean worse() {
            return gpu.state().ordinal() > previous.ordinal();
        }
    }

    /**
     * A MIG device's state changed: by its own reasons, its GPU's (the cause is then a reason of the GPU's,
     * and the message says so), or a clear. Fields as {@link Change}'s.
     */
    public record MigChange(MigHealth device, HealthState previous, String detector, String code, String message) {
        public boolean worse() {
            return device.state().ordinal() > previous.ordinal();
        }
    }

    /**
     * What a snapshot did: state changes, the UUIDs of GPUs that are gone from the driver's list, the MIG devices'
     * state changes and the MIG UUIDs that are gone (reconfigured away, or their GPU gone).
     */
    public record Judgement(List<Change> changes, List<String> vanished, List<MigChange> migChanges,
                            List<String> vanishedMig) {
    }

    /**
     * What a driver event or a clear did: the GPU's change (at most one), its MIG devices' changes, and the MIG
     * devices an XID was judged on ({@code judgedOn}; empty when it was judged on the GPU).
     */
    public record Outcome(List<Change> changes, List<MigChange> migChanges, List<MigHealth> judgedOn) {
    }

    /** A state change found by {@link #settle}, made into a {@link Change} once the GPU's MIG devices are settled. */
    private record Pending(GpuTracker tracker, HealthState previous, String detector, String code, String message) {
    }

    private static final Comparator<MigHealth> MIG_ORDER = Comparator.comparingInt(MigHealth::gpuInstanceId)
            .thenComparingInt(MigHealth::computeInstanceId);

    // guarded by this; replaced together by a configuration reload
    private List<Detector> detectors;
    private XidDetector xids;   // null when the detectors have none: then no XID stays on an instance
    private Duration hysteresis;
    private final Clock clock;
    private final Map<String, GpuTracker> trackers = new LinkedHashMap<>();
    // GPU tracker key -> MIG UUID -> the MIG device's tracker; a GPU not in MIG mode has no entry.
    private final Map<String, Map<String, GpuTracker>> migTrackers = new HashMap<>();
    private final Set<String> failing = new HashSet<>();   // detector/gpu pairs already logged as throwing
    private volatile List<GpuHealth> gpus = List.of();
    // By UUID, published with gpus: the health gauges look a GPU up at every scrape (14 per GPU), which
    // a scan of the list made quadratic in the GPU count.
    private volatile Map<String, GpuHealth> byUuid = Map.of();
    private volatile Map<String, MigHealth> migByUuid = Map.of();

    public HealthEngine(HealthConfig config, Clock clock) {
        this(detectors(config), config.hysteresis(), clock);
    }

    /**
     * Every detector, in docs/faults.md's order, configured from {@code gpu-agent.health.*}. Built here rather
     * than in {@code detect}, so the detectors stay plain logic that knows nothing of the configuration.
     */
    static List<Detector> detectors(HealthConfig c) {
        return List.of(
                XidDetector.withOverrides(c.xidClass(), c.xidScope()),
                new EccDetector(c.rateWindow(), c.eccCorrectedPerHour()),
                new RemapDetector(),
                new RetiredPagesDetector(c.retiredPagesLimit()),
                new ThermalDetector(c.thermalMargin(), c.shutdownMargin(), c.thermalWindow()),
                new ClocksDetector(c.clocksWindow()),
                new PcieDetector(c.rateWindow(), c.pcieReplaysPerMinute()),
                new NvLinkDetector(c.rateWindow(), c.nvlinkErrorsPerMinute(), c.nvlinkCrcErrorsPerSecond()),
                new LostDetector(),
                new DriverDetector(),
                new DcgmDetector());
    }

    HealthEngine(List<Detector> detectors, Duration hysteresis, Clock clock) {
        this.clock = clock;
        reconfigure(detectors, hysteresis);
    }

    /**
     * New thresholds from a configuration reload, between two judgements. The GPUs' reasons stay (a sticky
     * fault stays raised); the new detectors start their windows afresh, so a rate or a thermal window is
     * judged again from the reload on.
     */
    synchronized void reconfigure(List<Detector> detectors, Duration hysteresis) {
        this.detectors = List.copyOf(detectors);
        this.xids = detectors.stream().filter(d -> d instanceof XidDetector).map(d -> (XidDetector) d).findFirst()
                .orElse(null);
        this.hysteresis = hysteresis;
    }

    /** Every GPU's health, in index order, each with its MIG devices', as of the last call. */
    public List<GpuHealth> gpus() {
        return gpus;
    }

    public Optional<GpuHealth> gpu(int index, String uuid) {
        if (uuid != null) {
            return Optional.ofNullable(byUuid(uuid));
        }
        for (GpuHealth g : gpus) {
            if (g.index() == index) {
                return Optional.of(g);
            }
        }
        return Optional.empty();
    }

    /** The GPU with this UUID, or null; without an Optional, since the health gauges call it at every scrape. */
    public GpuHealth byUuid(String uuid) {
        return byUuid.get(uuid);
    }

    /** The MIG device with this {@code MIG-} UUID, or null (the MIG health gauges call it at every scrape). */
    public MigHealth migByUuid(String uuid) {
        return migByUuid.get(uuid);
    }

    /** The GPU ({@code GPU-...}) or MIG device ({@code MIG-...}) with this UUID. */
    public Optional<DeviceHealth> device(String uuid) {
        GpuHealth g = byUuid.get(uuid);
        return g != null ? Optional.of(g) : Optional.ofNullable(migByUuid.get(uuid));
    }

    /** Judges every GPU of {@code snapshot}. While NVML is down no GPU is judged (and none forgotten). */
    public synchronized Judgement onSnapshot(Snapshot snapshot) {
        Instant now = clock.instant();
        if (!snapshot.nvmlUp()) {
            gpus = List.of();
            byUuid = Map.of();
            migByUuid = Map.of();
            return new Judgement(List.of(), List.of(), List.of(), List.of());
        }
        List<Change> changes = new ArrayList<>(0);
        List<MigChange> migChanges = new ArrayList<>(0);
        List<String> vanishedMig = new ArrayList<>(0);
        Set<String> seen = new HashSet<>();
        for (GpuSample sample : snapshot.gpus()) {
            String key = key(sample.index(), sample.uuid());
            seen.add(key);
            try {
                GpuTracker t = trackers.computeIfAbsent(key, k -> new GpuTracker(sample.index(), sample.uuid(),
                        sample.info().name(), now));
                t.identify(sample.index(), sample.uuid(), sample.info().name());
                List<Finding> findings = new ArrayList<>();
                for (Detector d : detectors) {
                    if (!d.needsFreshReadings() || sample.status() == GpuStatus.OK) {
                        findings.addAll(guard(d, key, () -> d.evaluate(key, sample, now)));
                    }
                }
                t.observe(findings, now);
                Optional<Pending> change = settle(t, t.expire(now, hysteresis), now, null, null);
                if (sample.status() == GpuStatus.OK) {
                    vanishedMig.addAll(identifyMigDevices(key, sample, now));
                }
                migChanges.addAll(settleMigDevices(key, t, now, true));
                change.ifPresent(p -> changes.add(change(p, key)));
            } catch (RuntimeException e) {
                // One GPU's trouble never stops the others.
                LOG.errorf(e, "judging GPU %d (%s) failed; the other GPUs are judged as usual", sample.index(), key);
            }
        }
        List<String> vanished = new ArrayList<>(0);
        trackers.entrySet().removeIf(e -> {
            if (seen.contains(e.getKey())) {
                return false;
            }
            detectors.forEach(d -> d.forget(e.getKey()));
            vanished.add(e.getValue().uuid);
            Map<String, GpuTracker> gone = migTrackers.remove(e.getKey());
            if (gone != null) {
                gone.keySet().forEach(m -> forgetMig(m, vanishedMig));
            }
            return true;
        });
        publish();
        return new Judgement(changes, vanished, migChanges, vanishedMig);
    }

    /**
     * Takes the MIG devices of a fresh sample as they are now: a new MIG UUID gets a tracker, one the GPU no
     * longer lists is forgotten (a stale or lost sample may carry no MIG list, so only fresh ones decide).
     * Returns the forgotten MIG UUIDs.
     */
    private List<String> identifyMigDevices(String key, GpuSample sample, Instant now) {
        List<MigSample> listed = sample.migDevices();
        Map<String, GpuTracker> known = migTrackers.get(key);
        if (listed.isEmpty() && known == null) {
            return List.of();
        }
        if (known == null) {
            known = new LinkedHashMap<>();
            migTrackers.put(key, known);
        }
        Set<String> present = new HashSet<>();
        for (MigSample m : listed) {
            present.add(m.uuid());
            known.computeIfAbsent(m.uuid(), k -> GpuTracker.forMig(m.info(), now)).identify(m.info());
        }
        List<String> forgotten = new ArrayList<>(0);
        for (Iterator<String> it = known.keySet().iterator(); it.hasNext(); ) {
            String uuid = it.next();
            if (!present.contains(uuid)) {
                it.remove();
                forgetMig(uuid, forgotten);
            }
        }
        if (known.isEmpty()) {
            migTrackers.remove(key);
        }
        return forgotten;
    }

    private void forgetMig(String uuid, List<String> forgotten) {
        detectors.forEach(d -> d.forget(uuid));
        forgotten.add(uuid);
    }

    /**
     * Every MIG device of GPU {@code key} takes the GPU's settled state and reasons and, on a sweep
     * ({@code expire}), drops its own reasons that were absent for the hysteresis window; returns their changes.
     */
    private List<MigChange> settleMigDevices(String key, GpuTracker parent, Instant now, boolean expire) {
        Map<String, GpuTracker> known = migTrackers.get(key);
        if (known == null) {
            return List.of();
        }
        List<MigChange> out = new ArrayList<>(0);
        for (GpuTracker m : known.values()) {
            List<Reason> gone = new ArrayList<>(expire ? m.expire(now, hysteresis) : List.of());
            List<Reason> goneFromGpu = m.inherit(parent);
            gone.addAll(goneFromGpu);
            settle(m, gone, goneFromGpu, now, null, null).ifPresent(p -> out.add(migChange(p)));
        }
        return out;
    }

    /**
     * Judges one driver event on GPU {@code index}/{@code uuid} (a GPU not seen in a snapshot yet is added). An
     * XID that {@link XidDetector#scopeOf} keeps on an instance and whose event names a GPU instance the GPU's
     * latest sample listed is judged on those MIG devices only; any other event on the GPU, whose MIG devices
     * then inherit it.
     */
    public synchronized Outcome onEvent(int index, String uuid, String name, GpuEvent event) {
        Instant now = clock.instant();
        String key = key(index, uuid);
        GpuTracker t = trackers.computeIfAbsent(key, k -> new GpuTracker(index, uuid, name, now));
        List<GpuTracker> instances = routed(key, index, event);
        if (!instances.isEmpty()) {
            List<MigChange> changes = new ArrayList<>(1);
            for (GpuTracker m : instances) {
                m.record(guard(xids, m.uuid, () -> xids.onEvent(m.uuid, event, now)), now);
                settle(m, List.of(), now, null, null).ifPresent(p -> changes.add(migChange(p)));
            }
            publish();
            return new Outcome(List.of(), changes, instances.stream().map(GpuTracker::migHealth).toList());
        }
        List<Finding> findings = new ArrayList<>(1);
        for (Detector d : detectors) {
            findings.addAll(guard(d, key, () -> d.onEvent(key, event, now)));
        }
        t.record(findings, now);
        Optional<Pending> change = settle(t, List.of(), now, null, null);
        List<MigChange> migChanges = settleMigDevices(key, t, now, false);
        publish();
        return new Outcome(change.map(p -> List.of(change(p, key))).orElse(List.of()), migChanges, List.of());
    }

    /** The MIG devices an XID event stays on (docs/faults.md#mig), or none: then it is the whole GPU's. */
    private List<GpuTracker> routed(String key, int index, GpuEvent event) {
        if (!event.isXid() || xids == null || event.gpuInstanceId() < 0
                || xids.scopeOf((int) event.eventData()) != XidScope.INSTANCE) {
            return List.of();
        }
        List<GpuTracker> named = new ArrayList<>(1);
        Map<String, GpuTracker> known = migTrackers.getOrDefault(key, Map.of());
        for (GpuTracker m : known.values()) {
            if (m.mig.gpuInstanceId() == event.gpuInstanceId()
                    && (event.computeInstanceId() < 0 || m.mig.computeInstanceId() == event.computeInstanceId())) {
                named.add(m);
            }
        }
        if (named.isEmpty()) {
            LOG.infof("XID %d names GPU instance %d, compute instance %d of GPU %d, which its latest sample did not "
                            + "list (created since?); judged on the whole GPU", event.eventData(), event.gpuInstanceId(),
                    event.computeInstanceId(), index);
        }
        return named;
    }

    /**
     * Drops every reason of one GPU that is not observed right now (sticky ones included): an operator clear
     * ({@code detector} "operator") or a successful recovery action. A condition still present stays. Its MIG
     * devices keep their own reasons and inherit the GPU's new state. Empty when there is no such GPU; otherwise
     * the outcome's {@code changes} holds the clear's change (its state may be the same).
     */
    public synchronized Optional<Outcome> clear(int index, String uuid, String detector, String message) {
        GpuTracker t = find(index, uuid);
        if (t == null) {
            return Optional.empty();
        }
        String key = key(t.index, t.uuid);
        Instant now = clock.instant();
        Pending cleared = clearReasons(t, detector, message, now);
        List<MigChange> migChanges = settleMigDevices(key, t, now, false);
        publish();
        return Optional.of(new Outcome(List.of(change(cleared, key)), migChanges, List.of()));
    }

    /**
     * Drops every reason of the MIG device {@code uuid} ({@code MIG-...}) of its own; its GPU's stay (clear the
     * GPU for those). Empty when there is no such MIG device; otherwise the clear's change (its state may be the
     * same).
     */
    public synchronized Optional<MigChange> clearMig(String uuid, String detector, String message) {
        GpuTracker m = null;
        for (Map<String, GpuTracker> known : migTrackers.values()) {
            m = m != null ? m : known.get(uuid);
        }
        if (m == null) {
            return Optional.empty();
        }
        MigChange change = migChange(clearReasons(m, detector, message, clock.instant()));
        publish();
        return Optional.of(change);
    }

    private Pending clearReasons(GpuTracker t, String detector, String message, Instant now) {
        List<Reason> gone = t.clear();
        String removed = gone.isEmpty() ? "nothing to remove"
                : "removed " + gone.stream().map(Reason::code).collect(Collectors.joining(", "));
        HealthState before = t.state;
        return settle(t, gone, now, detector, message + "; " + removed).orElseGet(() -> {
            List<Reason> left = t.all();
            String still = t.state == HealthState.HEALTHY || left.isEmpty() ? ""
                    : "; still " + t.state + ": " + cause(t, left.getFirst());
            return new Pending(t, before, detector, "CLEARED", describe(t, before, message + "; " + removed + still));
        });
    }

    private GpuTracker find(int index, String uuid) {
        if (uuid != null && !uuid.isEmpty()) {
            return trackers.get(uuid);
        }
        for (GpuTracker t : trackers.values()) {
            if (t.index == index) {
                return t;
            }
        }
        return null;
    }

    /** Applies the tracker's judged state; a change names its cause. */
    private Optional<Pending> settle(GpuTracker t, List<Reason> gone, Instant now, String clearedBy, String clearMessage) {
        return settle(t, gone, List.of(), now, clearedBy, clearMessage);
    }

    /** As above; {@code goneFromGpu}, the part of {@code gone} that was a MIG device's GPU's. */
    private Optional<Pending> settle(GpuTracker t, List<Reason> gone, List<Reason> goneFromGpu, Instant now,
                                     String clearedBy, String clearMessage) {
        HealthState before = t.state;
        HealthState after = t.judged();
        if (after == before) {
            return Optional.empty();
        }
        t.state = after;
        t.since = now;
        if (clearedBy != null) {
            return Optional.of(new Pending(t, before, clearedBy, "CLEARED", describe(t, before, clearMessage)));
        }
        List<Reason> all = t.all();
        if (after.ordinal() > before.ordinal()) {
            if (all.isEmpty()) {   // INITIALIZING -> HEALTHY
                return Optional.of(new Pending(t, before, "health", after.name(), describe(t, before, "first judgement")));
            }
            Reason cause = all.getFirst();
            return Optional.of(new Pending(t, before, cause.detector(), cause.code(), describe(t, before,
                    cause(t, cause) + "; next: " + cause.action())));
        }
        Reason cleared = gone.isEmpty() ? null : gone.getFirst();
        String why = cleared == null ? "reasons cleared"
                : "[" + cleared.detector() + " " + cleared.code() + "] " + (goneFromGpu.contains(cleared)
                ? "of its GPU " + t.mig.gpuIndex() + " cleared" : "cleared, absent for " + hysteresis.toMillis() + " ms");
        return Optional.of(new Pending(t, before, cleared == null ? "health" : cleared.detector(),
                cleared == null ? after.name() : cleared.code(), describe(t, before, why)));
    }

    /** A reason in a message: a MIG device's inherited one says it is its GPU's. */
    private static String cause(GpuTracker t, Reason r) {
        String of = t.mig != null && t.inherited().contains(r) ? " on its GPU " + t.mig.gpuIndex() : "";
        return "[" + r.detector() + " " + r.code() + "]" + of + " " + r.message();
    }

    private Change change(Pending p, String key) {
        return new Change(p.tracker().health(migHealth(key)), p.previous(), p.detector(), p.code(), p.message());
    }

    private static MigChange migChange(Pending p) {
        return new MigChange(p.tracker().migHealth(), p.previous(), p.detector(), p.code(), p.message());
    }

    private List<MigHealth> migHealth(String key) {
        Map<String, GpuTracker> known = migTrackers.get(key);
        if (known == null) {
            return List.of();
        }
        List<MigHealth> out = new ArrayList<>(known.size());
        known.values().forEach(m -> out.add(m.migHealth()));
        out.sort(MIG_ORDER);
        return out;
    }

    private static String describe(GpuTracker t, HealthState before, String why) {
        String who = t.mig == null ? "GPU " + t.index + " (" + t.uuid + ")"
                : "MIG device " + t.mig.address() + " (" + t.uuid + ", " + t.mig.profile() + " on " + t.mig.parentUuid() + ")";
        return who + " " + before + " -> " + t.state + ": " + why;
    }

    private List<Finding> guard(Detector d, String gpu, java.util.function.Supplier<List<Finding>> call) {
        try {
            return call.get();
        } catch (RuntimeException e) {
            if (failing.add(d.name() + '/' + gpu)) {
                LOG.errorf(e, "detector %s failed on GPU %s; its findings for this GPU are skipped (logged once)", d.name(), gpu);
            }
            return List.of();
        }
    }

    private void publish() {
        List<GpuHealth> all = new ArrayList<>(trackers.size());
        Map<String, MigHealth> migIndex = new HashMap<>();
        for (Map.Entry<String, GpuTracker> e : trackers.entrySet()) {
            List<MigHealth> mig = migHealth(e.getKey());
            mig.forEach(m -> migIndex.put(m.uuid(), m));
            all.add(e.getValue().health(mig));
        }
        all.sort(Comparator.comparingInt(GpuHealth::index));
        Map<String, GpuHealth> index = new HashMap<>();
        for (GpuHealth g : all) {
            index.putIfAbsent(g.uuid(), g);
        }
        gpus = List.copyOf(all);
        byUuid = index;
        migByUuid = migIndex;
    }

    private static String key(int index, String uuid) {
        return uuid == null || uuid.isEmpty() ? "index:" + index : uuid;
    }
}
