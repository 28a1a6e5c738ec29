package io.gpuagent.agent.health;

import io.gpuagent.agent.health.detect.ClocksDetector;
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
import io.gpuagent.exporter.GpuSample;
import io.gpuagent.exporter.GpuStatus;
import io.gpuagent.exporter.Snapshot;
import io.gpuagent.nvml.GpuEvent;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
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
 * The detectors and every GPU's {@link GpuTracker}, without CDI, metrics or I/O: snapshots, events and
 * clears go in, state changes come out, and {@link #gpus()} is swapped in whole after each. One call at a
 * time (synchronized); readers of {@link #gpus()} never wait.
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

    /** What a snapshot did: state changes, and the UUIDs of GPUs that are gone from the driver's list. */
    public record Judgement(List<Change> changes, List<String> vanished) {
    }

    private final List<Detector> detectors;
    private final Duration hysteresis;
    private final Clock clock;
    private final Map<String, GpuTracker> trackers = new LinkedHashMap<>();
    private final Set<String> failing = new HashSet<>();   // detector/gpu pairs already logged as throwing
    private volatile List<GpuHealth> gpus = List.of();
    // By UUID, published with gpus: the health gauges look a GPU up at every scrape (14 per GPU), which
    // a scan of the list made quadratic in the GPU count.
    private volatile Map<String, GpuHealth> byUuid = Map.of();

    public HealthEngine(HealthConfig config, Clock clock) {
        this(detectors(config), config.hysteresis(), clock);
    }

    /**
     * Every detector, in docs/faults.md's order, configured from {@code gpu-agent.health.*}. Built here rather
     * than in {@code detect}, so the detectors stay plain logic that knows nothing of the configuration.
     */
    static List<Detector> detectors(HealthConfig c) {
        return List.of(
                XidDetector.withOverrides(c.xidClass()),
                new EccDetector(c.rateWindow(), c.eccCorrectedPerHour()),
                new RemapDetector(),
                new RetiredPagesDetector(c.retiredPagesLimit()),
                new ThermalDetector(c.thermalMargin(), c.shutdownMargin(), c.thermalWindow()),
                new ClocksDetector(c.clocksWindow()),
                new PcieDetector(c.rateWindow(), c.pcieReplaysPerMinute()),
                new NvLinkDetector(c.rateWindow(), c.nvlinkErrorsPerMinute(), c.nvlinkCrcErrorsPerSecond()),
                new LostDetector(),
                new DriverDetector());
    }

    HealthEngine(List<Detector> detectors, Duration hysteresis, Clock clock) {
        this.detectors = List.copyOf(detectors);
        this.hysteresis = hysteresis;
        this.clock = clock;
    }

    /** Every GPU's health, in index order, as of the last call. */
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

    /** Judges every GPU of {@code snapshot}. While NVML is down no GPU is judged (and none forgotten). */
    public synchronized Judgement onSnapshot(Snapshot snapshot) {
        Instant now = clock.instant();
        if (!snapshot.nvmlUp()) {
            gpus = List.of();
            byUuid = Map.of();
            return new Judgement(List.of(), List.of());
        }
        List<Change> changes = new ArrayList<>(0);
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
                settle(t, t.expire(now, hysteresis), now, null, null).ifPresent(changes::add);
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
            return true;
        });
        publish();
        return new Judgement(changes, vanished);
    }

    /** Judges one driver event on GPU {@code index}/{@code uuid} (a GPU not seen in a snapshot yet is added). */
    public synchronized Optional<Change> onEvent(int index, String uuid, String name, GpuEvent event) {
        Instant now = clock.instant();
        String key = key(index, uuid);
        GpuTracker t = trackers.computeIfAbsent(key, k -> new GpuTracker(index, uuid, name, now));
        List<Finding> findings = new ArrayList<>(1);
        for (Detector d : detectors) {
            findings.addAll(guard(d, key, () -> d.onEvent(key, event, now)));
        }
        t.record(findings, now);
        Optional<Change> change = settle(t, List.of(), now, null, null);
        publish();
        return change;
    }

    /**
     * Drops every reason of one GPU that is not observed right now (sticky ones included): an operator clear
     * ({@code detector} "operator") or a successful recovery action. A condition still present stays. Always
     * returns a change (its state may be the same); empty when there is no such GPU.
     */
    public synchronized Optional<Change> clear(int index, String uuid, String detector, String message) {
        GpuTracker t = find(index, uuid);
        if (t == null) {
            return Optional.empty();
        }
        Instant now = clock.instant();
        List<Reason> gone = t.clear();
        String removed = gone.isEmpty() ? "nothing to remove"
                : "removed " + gone.stream().map(Reason::code).collect(Collectors.joining(", "));
        HealthState before = t.state;
        Optional<Change> change = settle(t, gone, now, detector, message + "; " + removed);
        publish();
        return Optional.of(change.orElseGet(() -> new Change(t.health(), before, detector, "CLEARED",
                describe(t, before, message + "; " + removed + (t.state == HealthState.HEALTHY ? ""
                        : "; still " + t.state + ": " + t.health().reasons().getFirst().message())))));
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
    private Optional<Change> settle(GpuTracker t, List<Reason> gone, Instant now, String clearedBy, String clearMessage) {
        HealthState before = t.state;
        HealthState after = t.judged();
        if (after == before) {
            return Optional.empty();
        }
        t.state = after;
        t.since = now;
        GpuHealth health = t.health();
        if (clearedBy != null) {
            return Optional.of(new Change(health, before, clearedBy, "CLEARED", describe(t, before, clearMessage)));
        }
        if (after.ordinal() > before.ordinal()) {
            if (health.reasons().isEmpty()) {   // INITIALIZING -> HEALTHY
                return Optional.of(new Change(health, before, "health", after.name(), describe(t, before, "first judgement")));
            }
            Reason cause = health.reasons().getFirst();
            return Optional.of(new Change(health, before, cause.detector(), cause.code(), describe(t, before,
                    "[" + cause.detector() + " " + cause.code() + "] " + cause.message() + "; next: " + cause.action())));
        }
        Reason cleared = gone.isEmpty() ? null : gone.getFirst();
        String why = cleared == null ? "reasons cleared"
                : "[" + cleared.detector() + " " + cleared.code() + "] cleared, absent for " + hysteresis.toMillis() + " ms";
        return Optional.of(new Change(health, before, cleared == null ? "health" : cleared.detector(),
                cleared == null ? after.name() : cleared.code(), describe(t, before, why)));
    }

    private static String describe(GpuTracker t, HealthState before, String why) {
        return "GPU " + t.index + " (" + t.uuid + ") " + before + " -> " + t.state + ": " + why;
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
        for (GpuTracker t : trackers.values()) {
            all.add(t.health());
        }
        all.sort(Comparator.comparingInt(GpuHealth::index));
        Map<String, GpuHealth> index = new HashMap<>();
        for (GpuHealth g : all) {
            index.putIfAbsent(g.uuid(), g);
        }
        gpus = List.copyOf(all);
        byUuid = index;
    }

    private static String key(int index, String uuid) {
        return uuid == null || uuid.isEmpty() ? "index:" + index : uuid;
    }
}
