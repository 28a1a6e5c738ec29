package io.gpuagent.exporter;

import io.gpuagent.nvml.Nvml;
import io.gpuagent.nvml.NvmlException;
import io.micrometer.core.instrument.MeterRegistry;
import java.lang.System.Logger.Level;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * Reads every GPU on a fixed interval into an immutable {@link Snapshot}; the only code that calls NVML
 * for readings. Scrapes, detectors and the API read {@link #latest()}, which never blocks.
 *
 * <h2>Threads and deadlines</h2>
 * One platform thread ({@code gpu-sampler}) starts a sweep every {@link SamplerSettings#interval()}. A sweep
 * hands each GPU's read to that GPU's worker (platform threads from a pool; at most one read per GPU is in
 * flight, so at most one thread per GPU) and waits for all of them until {@link SamplerSettings#gpuDeadline()}
 * after the sweep started. Then it publishes:
 * <ul>
 *   <li>a GPU whose read finished: its new sample (OK, or LOST with its last values);</li>
 *   <li>a GPU whose read is still in NVML: its previous values, marked {@link GpuStatus#STALE} with their old
 *       {@code readAt}. It is not read again until that read returns; its result is used by the first sweep
 *       that finds it done. The other GPUs are published on time.</li>
 *   <li>a LOST GPU is probed again every {@link SamplerSettings#lostRetry()} sweeps only;</li>
 *   <li>an index the driver stopped reporting (device count dropped): LOST.</li>
 * </ul>
 * A call that hangs on the sweeping thread itself (device count, driver version) delays the snapshot, never
 * a scrape: {@code gpu_agent_snapshot_age_seconds} grows. Memory is bounded: per-GPU state is fixed-size,
 * one GPM sample per GPU, and old snapshots are garbage once replaced.
 *
 * <p>One sampler per registry (its meters are registered by name). Not restartable after {@link #close()}.
 */
public final class Sampler implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Sampler.class.getName());

    private final NvmlSource source;
    private final SamplerSettings settings;
    private final Clock clock;
    private final boolean[] requested = new boolean[Reading.COUNT];
    private final AtomicReference<Snapshot> latest;
    private final List<Consumer<Snapshot>> listeners = new CopyOnWriteArrayList<>();
    private final AgentMeters meters;
    private final ExecutorService workers;
    private final ReentrantLock sweepLock = new ReentrantLock();
    private final DcgmFeed dcgm;          // null when gpu-agent.dcgm.mode=off: nothing of DCGM is loaded
    private final Set<Reading> dcgmHeld = EnumSet.noneOf(Reading.class);   // DCGM's profiling reads these, not GPM

    // guarded by sweepLock
    private Nvml nvml;
    private String driverVersion;
    private List<GpuState> states = new ArrayList<>();
    private int lastDeviceCount;
    private long sequence;
    private long sweeps;
    private String topologyOf;            // the UUIDs (index order) the current topology was read for
    private Topology topology = Topology.EMPTY;
    private Snapshot lastGood;            // the last snapshot with NVML up: served stale while NVML is released
    private Snapshot releasedFrom;        // while the first reads after a release run: what to serve meanwhile
    private boolean dcgmReleased;         // DCGM let go of while NVML is released (a GPU reset)
    private final TopologyReader topologyReader;

    private volatile boolean running;
    private volatile boolean sweepSoon;
    private Thread thread;

    /**
     * @param source        where NVML comes from (the agent's connector)
     * @param settings      interval, deadline, readings
     * @param agentRegistry where the {@code gpu_agent_*} meters go (the agent's Prometheus registry)
     * @param clock         timestamps of readings and snapshot ages
     */
    public Sampler(NvmlSource source, SamplerSettings settings, MeterRegistry agentRegistry, Clock clock) {
        this(source, settings, DcgmSettings.OFF, agentRegistry, clock);
    }

    /**
     * A sampler that also reads DCGM ({@code dcgm} on): the readings NVML cannot give join the same snapshot
     * ({@link DcgmFeed}). With {@link DcgmSettings#OFF} the same as without.
     */
    public Sampler(NvmlSource source, SamplerSettings settings, DcgmSettings dcgm, MeterRegistry agentRegistry,
                   Clock clock) {
        this.source = Objects.requireNonNull(source, "source");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.clock = Objects.requireNonNull(clock, "clock");
        for (Reading r : settings.readings()) {
            requested[r.ordinal()] = true;
        }
        Objects.requireNonNull(dcgm, "dcgm");
        this.dcgm = dcgm.on() ? new DcgmFeed(dcgm, settings.readings()) : null;
        if (this.dcgm != null && dcgm.profiling() == DcgmSettings.Profiling.DCGM) {
            for (Reading r : this.dcgm.profiling()) {
                requested[r.ordinal()] = false;   // DCGM's profiling module holds the counters: no GPM of ours
                dcgmHeld.add(r);
            }
        }
        this.latest = new AtomicReference<>(Snapshot.initial(clock.instant()));
        this.meters = new AgentMeters(Objects.requireNonNull(agentRegistry, "agentRegistry"), latest::get, clock);
        this.topologyReader = new TopologyReader(meters);
        this.workers = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 60, TimeUnit.SECONDS, new SynchronousQueue<>(),
                workerThreads());
    }

    private static ThreadFactory workerThreads() {
        var builder = Thread.ofPlatform().name("gpu-reader-", 0).daemon(true);
        return builder::unstarted;
    }

    public SamplerSettings settings() {
        return settings;
    }

    /**
     * Reads {@code more} as well from the next sweep on (a reloaded counters file that needs new readings).
     * Only adds: a read in flight keeps every reading it was asked for, and readings a new file no longer
     * needs cost a little until the next restart. Readings DCGM's profiling module holds stay DCGM's.
     */
    public void request(Set<Reading> more) {
        sweepLock.lock();
        try {
            for (Reading r : more) {
                requested[r.ordinal()] |= !dcgmHeld.contains(r);
            }
        } finally {
            sweepLock.unlock();
        }
    }

    /** The DCGM side, when {@code gpu-agent.dcgm.mode} is not off. */
    public Optional<DcgmFeed> dcgm() {
        return Optional.ofNullable(dcgm);
    }

    /** Starts the sampler thread; the first sweep begins at once. Idempotent. */
    public synchronized void start() {
        if (running) {
            return;
        }
        running = true;
        thread = Thread.ofPlatform().name("gpu-sampler").daemon(true).start(this::loop);
    }

    /**
     * Starts the next sweep now instead of at its time, e.g. when NVML has just come up: the first good
     * readings then follow NVML's start at once rather than up to an interval later (at boot the sampler
     * starts before NVML is opened). Does nothing while a sweep runs but make the next one start at once.
     */
    public void sweepSoon() {
        sweepSoon = true;
        Thread t;
        synchronized (this) {
            t = thread;
        }
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    /** The newest snapshot; never null (an empty "no sweep yet" snapshot before the first sweep). Never blocks. */
    public Snapshot latest() {
        return latest.get();
    }

    /** Called on the sampler thread after each published sweep, in registration order; exceptions are logged. */
    public void onSnapshot(Consumer<Snapshot> listener) {
        listeners.add(Objects.requireNonNull(listener));
    }

    /** Runs one sweep on the calling thread (waits for a sweep in progress first) and returns what it published. */
    public Snapshot sweepNow() {
        sweepLock.lock();
        try {
            return sweep();
        } finally {
            sweepLock.unlock();
        }
    }

    /**
     * Stops the sampler thread, then waits for the reads in flight (bounded) and frees what they hold, so
     * that NVML can be shut down after this returns. A worker still stuck in a native call after the wait is
     * left to return (daemon): NVML's own guard keeps {@code nvmlShutdown} from running under it.
     */
    @Override
    public void close() {
        Thread t;
        synchronized (this) {
            running = false;
            t = thread;
            thread = null;
        }
        long wait = Math.max(1000, settings.gpuDeadline().toMillis() * 2);
        if (t != null) {
            t.interrupt();
            try {
                t.join(wait);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        workers.shutdown();   // not shutdownNow: interrupting a thread in a downcall does nothing but confuse it
        try {
            if (!workers.awaitTermination(wait, TimeUnit.MILLISECONDS)) {
                LOG.log(Level.WARNING, "a GPU read is still inside NVML after " + wait + " ms at shutdown; leaving it");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        sweepLock.lock();
        try {
            retireAll();
        } finally {
            sweepLock.unlock();
        }
        if (dcgm != null) {
            dcgm.close();
        }
    }

    private void loop() {
        long interval = settings.interval().toNanos();
        long next = System.nanoTime();
        while (running) {
            sweepLock.lock();
            try {
                if (!running) {
                    return;
                }
                sweep();
            } catch (RuntimeException e) {
                LOG.log(Level.ERROR, "sampler sweep failed", e);
            } finally {
                sweepLock.unlock();
            }
            next += interval;
            long now = System.nanoTime();
            if (next - now < 0) {
                next = now; // overran (a slow sweep): start the next one at once, do not try to catch up
            }
            while (running && !sweepSoon && next - System.nanoTime() > 0) {
                LockSupport.parkNanos(next - System.nanoTime());
                if (Thread.interrupted()) {
                    return;
                }
            }
            if (sweepSoon) {
                sweepSoon = false;
                next = System.nanoTime();   // the sweeps after it keep their interval from this one
            }
        }
    }

    private Snapshot sweep() {
        long started = System.nanoTime();
        Instant takenAt = clock.instant();
        sweeps++;
        Optional<Nvml> current;
        String downReason;
        try {
            current = source.current();
            downReason = current.isPresent() ? null : source.downReason();
        } catch (RuntimeException e) {
            current = Optional.empty();
            downReason = "NVML source failed: " + e;
        }
        Snapshot snapshot;
        String released = current.isEmpty() ? releasedReason() : null;
        if (current.isEmpty()) {
            if (nvml != null) {
                retireAll();
                nvml = null;
            }
            if (released != null && lastGood != null) {
                releasedFrom = lastGood;
            }
            if (released != null && dcgm != null && !dcgmReleased) {
                dcgm.release(released);   // an embedded host engine holds the GPUs open too
                dcgmReleased = true;
            }
            snapshot = released != null && lastGood != null ? servedStale(takenAt, released)
                    : new Snapshot(++sequence, takenAt, false, downReason == null ? "NVML is not available" : downReason,
                    "", 0, List.of());
        } else {
            if (dcgmReleased) {
                dcgm.reacquire();
                dcgmReleased = false;
            }
            if (current.get() != nvml) {
                retireAll();
                nvml = current.get();
                driverVersion = null;
            }
            snapshot = sweepGpus(takenAt, started);
            lastGood = snapshot;
            if (releasedFrom != null && snapshot.gpus().stream().noneMatch(GpuSample::isReleased)) {
                releasedFrom = null;   // every GPU read once since the release
            }
        }
        latest.set(snapshot);
        meters.recordSweep(System.nanoTime() - started);
        for (Consumer<Snapshot> l : listeners) {
            try {
                l.accept(snapshot);
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "snapshot listener failed", e);
            }
        }
        return snapshot;
    }

    private String releasedReason() {
        try {
            return source.releasedReason();
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** While NVML is released (a GPU reset): the last good readings, every GPU STALE with the reason. */
    private Snapshot servedStale(Instant takenAt, String reason) {
        List<GpuSample> gpus = new ArrayList<>(lastGood.gpus().size());
        for (GpuSample s : lastGood.gpus()) {
            gpus.add(s.status() == GpuStatus.LOST ? s : s.released(reason));
        }
        return new Snapshot(++sequence, takenAt, true, null, lastGood.driverVersion(), lastGood.deviceCount(), gpus,
                lastGood.topology());
    }

    private Snapshot sweepGpus(Instant takenAt, long started) {
        if (driverVersion == null) {
            try {
                driverVersion = nvml.driverVersion();
            } catch (NvmlException e) {
                meters.nvmlError(e);
            }
        }
        int count;
        try {
            count = nvml.deviceCount();
            lastDeviceCount = count;
        } catch (NvmlException e) {
            meters.nvmlError(e);
            count = lastDeviceCount;
        }
        while (states.size() < count) {
            GpuState st = new GpuState(states.size());
            // After NVML is initialised again (a reset), a GPU that cannot identify itself keeps the identity
            // it had: a lost GPU must stay the same GPU to health, leases and recovery.
            if (lastGood != null) {
                lastGood.gpu(st.index).filter(g -> g.info().known()).ifPresent(g -> st.knownBefore = g.info());
            }
            states.add(st);
        }
        for (int i = 0; i < count; i++) {
            submit(states.get(i), started, takenAt);
        }
        long deadline = started + settings.gpuDeadline().toNanos();
        for (int i = 0; i < count; i++) {
            CompletableFuture<GpuSample> f = states.get(i).inFlight;
            if (f != null && !f.isDone()) {
                awaitUntil(f, deadline);
            }
        }
        List<GpuSample> gpus = new ArrayList<>(states.size());
        for (GpuState st : states) {
            GpuSample s = st.index < count ? st.collect(sweeps, releasedFrom) : st.vanished(count);
            if (s != null) {
                gpus.add(s);
                meters.gpuSeen(s.info());
            }
        }
        if (dcgm != null) {
            // DCGM's read starts once NVML's are in (it needs their UUIDs and MIG devices); it gets what is left of
            // the deadline, and at least a tenth of it.
            long dcgmDeadline = Math.max(deadline, System.nanoTime() + settings.gpuDeadline().toNanos() / 10);
            List<GpuState> st = states;
            // A GPU whose GPM support is not known yet counts as having it: DCGM watching its profiling fields
            // would take the counters from our GPM on a Hopper GPU.
            gpus = dcgm.join(gpus, i -> i >= st.size() || !Boolean.FALSE.equals(st.get(i).gpmSupported), dcgmDeadline);
        }
        return new Snapshot(++sequence, takenAt, true, null, driverVersion, count, gpus, topology(gpus));
    }

    /**
     * The topology of the GPUs read OK in this sweep, read again only when that set or a GPU's count of
     * active NVLinks changes (PCIe paths do not change while the driver holds the GPUs). On this thread: a
     * few hundred quick calls, once per change. GPUs with a read in flight, LOST or STALE are left out until
     * they read OK again.
     */
    private Topology topology(List<GpuSample> gpus) {
        List<TopologyReader.Gpu> readable = new ArrayList<>(gpus.size());
        StringBuilder key = new StringBuilder();
        for (GpuSample s : gpus) {
            GpuState st = s.index() < states.size() ? states.get(s.index()) : null;
            if (s.status() == GpuStatus.OK && s.info().known() && st != null && st.inFlight == null && st.device != null) {
                readable.add(new TopologyReader.Gpu(s.uuid(), s.info().pciBusId(), st.device));
                // Active NVLinks in the key: a link that goes down (or comes back) changes who its GPU reaches.
                key.append(s.uuid()).append('/').append(s.valueOr(Reading.NVLINK_LINKS, -1)).append(' ');
            }
        }
        String k = key.toString();
        if (!k.equals(topologyOf)) {
            topology = readable.size() < 2 ? Topology.EMPTY : topologyReader.read(readable);
            topologyOf = k;
        }
        return topology;
    }

    private void submit(GpuState st, long now, Instant takenAt) {
        if (st.inFlight != null) {
            return; // still inside NVML from an earlier sweep: never queue a second read behind it
        }
        if (st.published != null && st.published.status() == GpuStatus.LOST
                && (sweeps - st.lostAtSweep) % settings.lostRetry() != 0) {
            return;
        }
        st.inFlightSinceNanos = now;
        st.inFlightSince = takenAt;
        try {
            st.inFlight = CompletableFuture.supplyAsync(new GpuReadTask(nvml, st, settings, requested, meters, clock), workers);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            st.inFlight = null; // closing
        }
    }

    private static void awaitUntil(CompletableFuture<GpuSample> f, long deadlineNanos) {
        long remaining = deadlineNanos - System.nanoTime();
        try {
            if (remaining > 0) {
                f.get(remaining, TimeUnit.NANOSECONDS);
            }
        } catch (TimeoutException | ExecutionException e) {
            // timed out: published STALE below; failed: GpuReadTask does not throw, collect() handles it
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Drops every GPU's state (new NVML instance, NVML down, close); in-flight reads finish into the void. */
    private void retireAll() {
        for (GpuState st : states) {
            st.retired = true;
            if (st.inFlight == null || st.inFlight.isDone()) {
                st.releaseNative();
            }
        }
        states = new ArrayList<>();
        lastDeviceCount = 0;
        topologyOf = null;
        topology = Topology.EMPTY;
    }
}
