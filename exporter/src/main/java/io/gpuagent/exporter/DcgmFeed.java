package io.gpuagent.exporter;

import io.gpuagent.dcgm.Dcgm;
import io.gpuagent.dcgm.DcgmException;
import io.gpuagent.dcgm.DiagLevel;
import io.gpuagent.dcgm.DiagReport;
import io.gpuagent.dcgm.Entity;
import io.gpuagent.dcgm.EntityGroup;
import io.gpuagent.dcgm.FieldValue;
import io.gpuagent.dcgm.HealthIncident;
import io.gpuagent.dcgm.HealthResult;
import io.gpuagent.dcgm.HealthSystems;
import io.gpuagent.dcgm.MigEntity;
import io.gpuagent.dcgm.PolicyCondition;
import io.gpuagent.dcgm.PolicyRegistration;
import io.gpuagent.dcgm.PolicyViolation;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * The sampler's DCGM side ({@code gpu-agent.dcgm.mode} embedded or remote): one platform thread ({@code dcgm-reader})
 * that owns the DCGM connection, and the join of what it reads into the sweep's {@link GpuSample}s by GPU UUID.
 *
 * <p>Per sweep, after the NVML reads: one {@code dcgmEntitiesGetLatestValues} for the profiling fields of the GPUs
 * (and their GPU instances) that take them from DCGM, one for the DCGM-only fields, one {@code dcgmHealthCheck},
 * and the policy violations queued since the last sweep. The sweep waits for it until its deadline; a read still
 * running then is not waited for (DCGM's readings of the previous read are used, and the GPUs get a note), and no
 * second read is queued behind it.
 *
 * <p>The host engine going away (CONNECTION_NOT_VALID, or any other failure of a read): the connection is closed,
 * the readings DCGM fed are absent from the next snapshots (their series go stale in Prometheus), each GPU's sample
 * says why in a note, NVML's readings go on, and DCGM is tried again after 1 s, 2 s, ... up to
 * {@link DcgmSettings#maxBackoff()}. One log line per change of state (up, down with the reason).
 *
 * <p>For a GPU reset the agent releases NVML; the sampler then {@link #release}s DCGM too (an embedded host engine
 * holds the GPUs open), and it connects again once NVML is back.
 */
public final class DcgmFeed implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(DcgmFeed.class.getName());
    static final Duration WATCH_EVERY = Duration.ofSeconds(1);
    static final Duration KEEP = Duration.ofMinutes(1);
    static final int POLICY_QUEUE = 1024;

    /** Profiling readings DCGM can give, with their DCGM field ids (dcgm_fields.h). */
    static final Map<Reading, Integer> PROFILING_FIELDS = profilingFields();

    private final DcgmSettings settings;
    private final Set<Reading> profiling;              // the requested profiling readings
    private final int[] profilingIds;
    private final int[] extraIds;
    private final Supplier<Dcgm> opener;
    private final ExecutorService thread;

    // sweep thread only
    private CompletableFuture<Result> inFlight;
    private Result last = Result.down("DCGM not connected yet");
    private int sweepsSinceFresh;
    /** After this many sweeps without a finished DCGM read, its old values are dropped rather than served. */
    static final int STALE_AFTER_SWEEPS = 3;

    // dcgm-reader thread only (and release/close, which run there too)
    private Dcgm dcgm;
    /**
     * The connection whose host engine went away, kept (not closed) until it answers again or has failed
     * {@value #PROBES} probes: closing it while the engine is gone cannot unregister our policy callback, and a
     * host engine that comes back (the same handle works again) is then let go of cleanly before a new connect.
     */
    private Dcgm lost;
    private int failedProbes;
    static final int PROBES = 5;
    private final Map<String, Integer> gpuIdByUuid = new HashMap<>();
    private final Map<Integer, String> uuidByGpuId = new HashMap<>();
    private final Map<String, Integer> giEntityByKey = new HashMap<>();   // "uuid/gi" -> GPU_I entity id
    private String watchedKey;
    private long profGroup = -1;
    private long profFieldGroup = -1;
    private long extraFieldGroup = -1;
    private PolicyRegistration policy;
    private long nextAttemptNanos;
    private long backoffNanos;
    private String released;                            // set while NVML is released for a reset
    private volatile String downReason = "DCGM not connected yet";
    private volatile boolean up;
    private boolean loggedState;

    DcgmFeed(DcgmSettings settings, Set<Reading> requested) {
        this(settings, requested, () -> settings.mode() == DcgmSettings.Mode.EMBEDDED
                ? Dcgm.embedded(settings.library())
                : Dcgm.remote(settings.library(), settings.address(), settings.connectTimeout()));
    }

    DcgmFeed(DcgmSettings settings, Set<Reading> requested, Supplier<Dcgm> opener) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.opener = opener;
        EnumSet<Reading> p = EnumSet.noneOf(Reading.class);
        if (settings.profiling() != DcgmSettings.Profiling.GPM) {
            for (Reading r : requested) {
                if (PROFILING_FIELDS.containsKey(r)) {
                    p.add(r);
                }
            }
        }
        this.profiling = p;
        this.profilingIds = p.stream().mapToInt(PROFILING_FIELDS::get).toArray();
        this.extraIds = settings.fields().stream().mapToInt(Integer::intValue).sorted().toArray();
        this.thread = Executors.newSingleThreadExecutor(r -> Thread.ofPlatform().name("dcgm-reader").daemon(true).unstarted(r));
    }

    private static Map<Reading, Integer> profilingFields() {
        Map<Reading, Integer> m = new EnumMap<>(Reading.class);
        for (MetricDef d : MetricCatalog.all()) {
            if (d.source() != null && d.source().source() instanceof Reading.Source.Gpm && d.dcgmFieldId() > 0) {
                m.putIfAbsent(d.source(), d.dcgmFieldId());
            }
        }
        return Map.copyOf(m);
    }

    /** Whether DCGM answers now. */
    public boolean up() {
        return up;
    }

    /** Why DCGM does not answer; null while it does. */
    public String downReason() {
        return up ? null : downReason;
    }

    /** The profiling readings DCGM may supply (the requested ones, unless {@code profiling=gpm}). */
    Set<Reading> profiling() {
        return profiling;
    }

    /** One GPU the sweep read: its UUID, whether DCGM gives its profiling readings, its GPU instance ids. */
    record Want(String uuid, boolean profiling, List<Integer> gpuInstances) {
    }

    /** What one DCGM read gave, by GPU UUID. */
    record Result(boolean connected, String reason, Map<String, double[]> profiling,
                  Map<String, Map<Integer, double[]>> migProfiling, Map<String, Map<Integer, Double>> fields,
                  Map<String, List<DcgmIncident>> incidents, Map<String, List<DcgmViolation>> violations) {
        static Result down(String reason) {
            return new Result(false, reason, Map.of(), Map.of(), Map.of(), Map.of(), Map.of());
        }
    }

    /**
     * Joins DCGM's readings into the sweep's samples (on the sweep thread). {@code gpmOf} says whether a GPU (by
     * index) has GPM; waits for the DCGM read until {@code deadlineNanos} at most.
     */
    List<GpuSample> join(List<GpuSample> gpus, java.util.function.IntPredicate gpmOf, long deadlineNanos) {
        List<Want> wants = new ArrayList<>(gpus.size());
        for (GpuSample g : gpus) {
            if (g.status() == GpuStatus.LOST || !g.info().known()) {
                continue;
            }
            boolean prof = !profiling.isEmpty() && (settings.profiling() == DcgmSettings.Profiling.DCGM
                    || !gpmOf.test(g.index()));
            List<Integer> gis = new ArrayList<>();
            for (MigSample m : g.migDevices()) {
                if (!gis.contains(m.info().gpuInstanceId())) {
                    gis.add(m.info().gpuInstanceId());
                }
            }
            wants.add(new Want(g.uuid(), prof, List.copyOf(gis)));
        }
        String note = null;
        sweepsSinceFresh++;
        if (inFlight != null && inFlight.isDone()) {
            last = resultOf(inFlight);
            inFlight = null;
            sweepsSinceFresh = 0;
        }
        if (inFlight == null) {
            try {
                inFlight = CompletableFuture.supplyAsync(() -> read(wants), thread);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                return gpus;   // closing
            }
            long remaining = deadlineNanos - System.nanoTime();
            try {
                last = inFlight.get(Math.max(remaining, 0), TimeUnit.NANOSECONDS);
                inFlight = null;
                sweepsSinceFresh = 0;
            } catch (TimeoutException e) {
                note = "DCGM readings are from the previous sweep: the DCGM read is still running";
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException e) {
                inFlight = null;
                last = Result.down("DCGM read failed: " + e.getCause());
            }
        } else {
            note = "DCGM readings are from an earlier sweep: a DCGM read is still running";
        }
        Result served = last;
        if (sweepsSinceFresh >= STALE_AFTER_SWEEPS && last.connected()) {
            // e.g. a long diagnostic holds the DCGM thread: old profiling values are not served as if current
            served = Result.down("the DCGM read has not finished for " + sweepsSinceFresh + " sweeps (a DCGM "
                    + "diagnostic running, or DCGM slow to answer)");
        }
        List<GpuSample> out = new ArrayList<>(gpus.size());
        for (GpuSample g : gpus) {
            out.add(g.status() == GpuStatus.LOST || !g.info().known() ? g : merge(g, served, note));
        }
        return out;
    }

    private static Result resultOf(CompletableFuture<Result> f) {
        try {
            return f.getNow(Result.down("DCGM read still running"));
        } catch (RuntimeException e) {
            return Result.down("DCGM read failed: " + e);
        }
    }

    private static GpuSample merge(GpuSample g, Result r, String note) {
        List<String> notes = new ArrayList<>(1);
        if (!r.connected()) {
            notes.add("DCGM readings absent: " + r.reason());
            return g.withDcgm(g.valuesCopy(), g.migDevices(), DcgmPart.NONE, notes);
        }
        if (note != null) {
            notes.add(note);
        }
        double[] values = g.valuesCopy();
        EnumSet<Reading> from = EnumSet.noneOf(Reading.class);
        double[] prof = r.profiling().get(g.uuid());
        if (prof != null) {
            for (Reading rd : Reading.values()) {
                if (!Double.isNaN(prof[rd.ordinal()])) {
                    values[rd.ordinal()] = prof[rd.ordinal()];
                    from.add(rd);
                }
            }
        }
        List<MigSample> migs = g.migDevices();
        Map<Integer, double[]> byGi = r.migProfiling().getOrDefault(g.uuid(), Map.of());
        if (!byGi.isEmpty()) {
            List<MigSample> joined = new ArrayList<>(migs.size());
            for (MigSample m : migs) {
                double[] gi = byGi.get(m.info().gpuInstanceId());
                if (gi == null) {
                    joined.add(m);
                    continue;
                }
                double[] mv = m.valuesCopy();
                for (Reading rd : Reading.values()) {
                    if (!Double.isNaN(gi[rd.ordinal()])) {
                        mv[rd.ordinal()] = gi[rd.ordinal()];
                        from.add(rd);
                    }
                }
                joined.add(m.withValues(mv));
            }
            migs = joined;
        }
        DcgmPart part = new DcgmPart(from, r.fields().getOrDefault(g.uuid(), Map.of()),
                r.incidents().getOrDefault(g.uuid(), List.of()), r.violations().getOrDefault(g.uuid(), List.of()), true);
        return g.withDcgm(values, migs, part, notes);
    }

    // ---------------------------------------------------------------- on the dcgm-reader thread

    private Result read(List<Want> wants) {
        if (released != null) {
            return Result.down(released);
        }
        if (dcgm == null && !connect()) {
            return Result.down(downReason);
        }
        try {
            watch(wants);
            Map<String, double[]> prof = new HashMap<>();
            Map<String, Map<Integer, double[]>> migProf = new HashMap<>();
            if (profilingIds.length > 0) {
                List<Entity> entities = new ArrayList<>();
                List<String> owners = new ArrayList<>();
                List<Integer> gis = new ArrayList<>();
                for (Want w : wants) {
                    Integer id = gpuIdByUuid.get(w.uuid());
                    if (!w.profiling() || id == null) {
                        continue;
                    }
                    entities.add(Entity.gpu(id));
                    owners.add(w.uuid());
                    gis.add(-1);
                    for (int gi : w.gpuInstances()) {
                        Integer e = giEntityByKey.get(w.uuid() + '/' + gi);
                        if (e != null) {
                            entities.add(new Entity(EntityGroup.GPU_I, e));
                            owners.add(w.uuid());
                            gis.add(gi);
                        }
                    }
                }
                if (!entities.isEmpty()) {
                    List<FieldValue> values = dcgm.latestValues(entities, profilingIds);
                    Reading[] byField = new Reading[profilingIds.length];
                    int k = 0;
                    for (Reading r : profiling) {
                        byField[k++] = r;
                    }
                    for (int i = 0; i < entities.size(); i++) {
                        double[] v = new double[Reading.COUNT];
                        Arrays.fill(v, Double.NaN);
                        for (int f = 0; f < profilingIds.length; f++) {
                            FieldValue fv = values.get(i * profilingIds.length + f);
                            if (fv.ok()) {
                                v[byField[f].ordinal()] = fv.asDouble();
                            }
                        }
                        if (gis.get(i) < 0) {
                            prof.put(owners.get(i), v);
                        } else {
                            migProf.computeIfAbsent(owners.get(i), u -> new HashMap<>()).put(gis.get(i), v);
                        }
                    }
                }
            }
            Map<String, Map<Integer, Double>> fields = new HashMap<>();
            if (extraIds.length > 0) {
                List<Entity> entities = new ArrayList<>();
                List<String> owners = new ArrayList<>();
                for (Want w : wants) {
                    Integer id = gpuIdByUuid.get(w.uuid());
                    if (id != null) {
                        entities.add(Entity.gpu(id));
                        owners.add(w.uuid());
                    }
                }
                if (!entities.isEmpty()) {
                    List<FieldValue> values = dcgm.latestValues(entities, extraIds);
                    for (int i = 0; i < entities.size(); i++) {
                        Map<Integer, Double> m = new HashMap<>();
                        for (int f = 0; f < extraIds.length; f++) {
                            FieldValue fv = values.get(i * extraIds.length + f);
                            if (fv.ok() && !(fv.data() instanceof io.gpuagent.dcgm.FieldData.Str)) {
                                m.put(extraIds[f], fv.asDouble());
                            }
                        }
                        fields.put(owners.get(i), m);
                    }
                }
            }
            Map<String, List<DcgmIncident>> incidents = new HashMap<>();
            for (HealthIncident h : dcgm.healthCheck(Dcgm.ALL_GPUS).incidents()) {
                if (h.entity().group() == EntityGroup.GPU && uuidByGpuId.containsKey(h.entity().id())) {
                    incidents.computeIfAbsent(uuidByGpuId.get(h.entity().id()), u -> new ArrayList<>())
                            .add(new DcgmIncident(h.system() == HealthSystems.ALL ? "ALL" : HealthSystems.name(h.system()),
                                    h.health() == HealthResult.FAIL,
                                    h.errorCode(), h.message()));
                }
            }
            Map<String, List<DcgmViolation>> violations = new HashMap<>();
            for (PolicyViolation v : policy.drain()) {
                String uuid = uuidByGpuId.get(v.gpuId());
                if (uuid != null) {
                    String condition = v.condition() != null ? v.condition().name()
                            : "0x" + Integer.toHexString(v.conditionBits());
                    violations.computeIfAbsent(uuid, u -> new ArrayList<>()).add(new DcgmViolation(condition, v.value(),
                            Instant.EPOCH.plus(v.timestampMicros(), java.time.temporal.ChronoUnit.MICROS)));
                }
            }
            return new Result(true, null, prof, migProf, fields, incidents, violations);
        } catch (RuntimeException e) {
            boolean gone = e instanceof DcgmException d && d.connectionLost();
            String reason = gone ? "the DCGM host engine went away (" + e.getMessage() + ")"
                    : "a DCGM read failed (" + e.getMessage() + ")";
            if (gone) {
                lost = dcgm;
                failedProbes = 0;
                forget();
            } else {
                disconnect();
            }
            down(reason + "; NVML readings go on, reconnecting with backoff");
            return Result.down(downReason);
        }
    }

    private boolean connect() {
        long now = System.nanoTime();
        if (nextAttemptNanos != 0 && now - nextAttemptNanos < 0) {
            return false;
        }
        if (lost != null) {
            try {
                lost.supportedGpus();   // back: let go of it cleanly (callbacks unregistered), then connect anew
            } catch (DcgmException e) {
                if (++failedProbes < PROBES) {
                    backOff();
                    return false;
                }
            }
            Dcgm old = lost;
            lost = null;
            closeQuietly(old);
        }
        try {
            dcgm = opener.get();
            gpuIdByUuid.clear();
            uuidByGpuId.clear();
            for (int id : dcgm.supportedGpus()) {
                String uuid = dcgm.attributes(id).uuid();
                gpuIdByUuid.put(uuid, id);
                uuidByGpuId.put(id, uuid);
            }
            dcgm.setHealthWatches(Dcgm.ALL_GPUS, HealthSystems.ALL, WATCH_EVERY, KEEP);
            dcgm.setPolicy(Dcgm.ALL_GPUS, PolicyCondition.all());
            policy = dcgm.registerPolicy(Dcgm.ALL_GPUS, PolicyCondition.all(), POLICY_QUEUE);
            if (extraIds.length > 0) {
                extraFieldGroup = dcgm.createFieldGroup("gpu-agent-fields", extraIds);
                dcgm.watchFields(Dcgm.ALL_GPUS, extraFieldGroup, WATCH_EVERY, KEEP, 0);
            }
            if (profilingIds.length > 0) {
                profFieldGroup = dcgm.createFieldGroup("gpu-agent-prof", profilingIds);
            }
            watchedKey = null;
            backoffNanos = 0;
            nextAttemptNanos = 0;
            up = true;
            downReason = null;
            var v = dcgm.version();
            LOG.log(Level.INFO, "DCGM connected (" + describe() + ", DCGM " + v.major() + "." + v.minor() + "." + v.patch()
                    + ", " + gpuIdByUuid.size() + " GPUs); profiling from DCGM: " + profiling + ", DCGM-only fields: "
                    + Arrays.toString(extraIds));
            loggedState = true;
            return true;
        } catch (DcgmException | IllegalStateException | IllegalArgumentException e) {
            disconnect();
            backOff();
            down("DCGM (" + describe() + ") is not available: " + e.getMessage() + "; NVML readings go on, retrying "
                    + "with backoff up to " + settings.maxBackoff().toSeconds() + " s (check nv-hostengine, "
                    + "gpu-agent.dcgm.address, gpu-agent.dcgm.library)");
            return false;
        }
    }

    private void backOff() {
        backoffNanos = backoffNanos == 0 ? TimeUnit.SECONDS.toNanos(1)
                : Math.min(backoffNanos * 2, settings.maxBackoff().toNanos());
        nextAttemptNanos = System.nanoTime() + backoffNanos;
    }

    private void down(String reason) {
        boolean changed = up || !loggedState || !sameKind(reason, downReason);
        up = false;
        downReason = reason;
        if (changed) {
            LOG.log(Level.WARNING, reason);
            loggedState = true;
        }
        if (nextAttemptNanos == 0) {
            backoffNanos = TimeUnit.SECONDS.toNanos(1);
            nextAttemptNanos = System.nanoTime() + backoffNanos;
        }
    }

    /** Two reasons of the same failure (backoff retries) are one state: only the first is logged. */
    private static boolean sameKind(String a, String b) {
        return a != null && b != null && a.regionMatches(0, b, 0, Math.min(24, Math.min(a.length(), b.length())));
    }

    private String describe() {
        return settings.mode() == DcgmSettings.Mode.EMBEDDED ? "embedded, " + settings.library()
                : "remote " + settings.address();
    }

    /** (Re)creates the profiling group when the GPUs (or their GPU instances) that take profiling from DCGM change. */
    private void watch(List<Want> wants) {
        if (profilingIds.length == 0) {
            return;
        }
        StringBuilder key = new StringBuilder();
        for (Want w : wants) {
            if (w.profiling() && gpuIdByUuid.containsKey(w.uuid())) {
                key.append(w.uuid()).append(w.gpuInstances()).append(' ');
            }
        }
        String k = key.toString();
        if (k.equals(watchedKey)) {
            return;
        }
        if (profGroup >= 0) {
            dcgm.unwatchFields(profGroup, profFieldGroup);
            dcgm.destroyGroup(profGroup);
            profGroup = -1;
        }
        giEntityByKey.clear();
        boolean mig = wants.stream().anyMatch(w -> w.profiling() && !w.gpuInstances().isEmpty());
        if (mig) {
            for (MigEntity m : dcgm.migHierarchy()) {
                if (m.entity().group() == EntityGroup.GPU_I) {
                    giEntityByKey.put(m.gpuUuid() + '/' + m.gpuInstanceId(), m.entity().id());
                }
            }
        }
        List<Entity> entities = new ArrayList<>();
        for (Want w : wants) {
            Integer id = gpuIdByUuid.get(w.uuid());
            if (w.profiling() && id != null) {
                entities.add(Entity.gpu(id));
                for (int gi : w.gpuInstances()) {
                    Integer e = giEntityByKey.get(w.uuid() + '/' + gi);
                    if (e != null) {
                        entities.add(new Entity(EntityGroup.GPU_I, e));
                    }
                }
            }
        }
        if (!entities.isEmpty()) {
            profGroup = dcgm.createGroup("gpu-agent-prof", entities);
            dcgm.watchFields(profGroup, profFieldGroup, WATCH_EVERY, KEEP, 0);
        }
        watchedKey = k;
    }

    /** Closes the connection (groups and watches go with it); quiet: the host engine may be gone. */
    private void disconnect() {
        Dcgm d = dcgm;
        forget();
        closeQuietly(d);
        Dcgm l = lost;
        lost = null;
        closeQuietly(l);
    }

    /** Drops the connection's state (its groups and watches die with it). */
    private void forget() {
        dcgm = null;
        policy = null;
        profGroup = -1;
        profFieldGroup = -1;
        extraFieldGroup = -1;
        watchedKey = null;
    }

    private static void closeQuietly(Dcgm d) {
        if (d != null) {
            try {
                d.close();   // unregisters the policy callback, stops or disconnects, dcgmShutdown
            } catch (RuntimeException e) {
                LOG.log(Level.DEBUG, "closing DCGM: " + e);
            }
        }
    }

    /**
     * Lets go of DCGM for a GPU reset (an embedded host engine holds the GPUs open), on the DCGM thread, waiting
     * for a read in flight; no reconnect until {@link #reacquire}. Returns once DCGM is closed.
     */
    public void release(String reason) {
        runOnThread(() -> {
            if (released == null) {
                released = "DCGM released: " + reason;
                if (dcgm != null) {
                    LOG.log(Level.INFO, "releasing DCGM: " + reason);
                }
                disconnect();
                up = false;
                downReason = released;
            }
        });
    }

    /** Lets the next sweep connect again after {@link #release}. */
    public void reacquire() {
        runOnThread(() -> {
            if (released != null) {
                released = null;
                nextAttemptNanos = 0;
                backoffNanos = 0;
                loggedState = false;
            }
        });
    }

    /**
     * Runs a DCGM diagnostic on one GPU (by UUID) through the sampler's DCGM connection, on the DCGM thread (the
     * sweep's DCGM reads wait meanwhile; NVML's do not). Empty when DCGM is not connected.
     */
    public java.util.Optional<DiagReport> diagnose(String uuid, DiagLevel level, Duration timeout)
            throws InterruptedException, TimeoutException {
        CompletableFuture<java.util.Optional<DiagReport>> f;
        try {
            f = CompletableFuture.supplyAsync(() -> {
                if (dcgm == null && (released != null || !connect())) {
                    return java.util.Optional.<DiagReport>empty();
                }
                Integer id = gpuIdByUuid.get(uuid);
                if (id == null) {
                    throw new IllegalArgumentException("DCGM does not know GPU " + uuid);
                }
                long group = dcgm.createGroup("gpu-agent-diag", List.of(Entity.gpu(id)));
                try {
                    return java.util.Optional.of(dcgm.runDiagnostic(group, level));
                } finally {
                    try {
                        dcgm.destroyGroup(group);
                    } catch (DcgmException e) {
                        LOG.log(Level.DEBUG, "destroying the diagnostic group: " + e);
                    }
                }
            }, thread);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            return java.util.Optional.empty();
        }
        try {
            return f.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    private void runOnThread(Runnable r) {
        try {
            thread.submit(r).get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException | java.util.concurrent.RejectedExecutionException e) {
            LOG.log(Level.WARNING, "DCGM thread did not answer: " + e);
        }
    }

    /** Closes the connection and the thread. */
    @Override
    public void close() {
        runOnThread(this::disconnect);
        thread.shutdown();
    }
}
