package io.gpuagent.agent.usage;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.agent.AgentConfig;
import io.gpuagent.agent.AgentRegistry;
import io.gpuagent.agent.health.GpuHealth;
import io.gpuagent.agent.health.HealthEngine;
import io.gpuagent.agent.health.HealthListener;
import io.gpuagent.agent.health.HealthModel;
import io.gpuagent.agent.health.detect.XidClass;
import io.gpuagent.agent.journal.JournalConfig;
import io.gpuagent.agent.journal.JournalWatch;
import io.gpuagent.agent.lease.Lease;
import io.gpuagent.agent.lease.LeaseBook;
import io.gpuagent.agent.sampler.SamplerService;
import io.gpuagent.exporter.GpuSample;
import io.gpuagent.exporter.MigSample;
import io.gpuagent.exporter.Snapshot;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.Startup;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.jboss.logging.Logger;

/**
 * What each lease used and cost (docs/usage.md): energy from each GPU's energy counter, GPU time, power,
 * activity, memory, idle time, XIDs and health changes, accumulated on the sampler's sweep listener from the
 * readings the sweep took anyway (no NVML call of its own, nothing on a request path). Checkpoints of the live
 * leases and the final totals of ended ones go to {@code state-dir/usage.jsonl} on a writer thread that exists
 * only while there is something to write; a restarted agent resumes each live lease from its checkpoint, and
 * flags the time it was down as {@code unobserved}.
 *
 * <p>Lock order: the lease book's and the health model's locks (their listeners run under them) before this
 * ledger's; the ledger never calls into either while holding its own.
 */
@Startup
@ApplicationScoped
public class UsageLedger {

    private static final Logger LOG = Logger.getLogger(UsageLedger.class);

    /** Lines waiting for the writer; a checkpoint that does not fit is dropped (the next one carries it). */
    static final int WRITE_QUEUE = 256;
    /**
     * Ended leases kept whole in memory (the release answer, a coordinator or an epilog asking right after); older
     * ones are summaries, their detail read back from the file when asked for.
     */
    static final int RECENT = 64;

    private final UsageConfig config;
    private final Clock clock;
    private final String node;
    private final MeterRegistry registry;
    private final UsageJournal journal;
    private final ThreadPoolExecutor writer;
    private final Optional<Path> pricesFile;
    private final SamplerService sampler;

    private final Object lock = new Object();
    private final Map<String, Running> live = new LinkedHashMap<>();        // guarded by lock
    private final LinkedHashMap<String, UsageReport> ended = new LinkedHashMap<>();  // guarded by lock; summaries, end order
    private final LinkedHashMap<String, LeaseUsage> recent = new LinkedHashMap<>();  // guarded by lock: the last RECENT ended, whole
    private final Map<String, LeaseUsage> resumable = new HashMap<>();      // guarded by lock: checkpoints at start
    private Prices prices;                                                   // guarded by lock
    private FileTime pricesSeen;                                             // guarded by lock
    private Instant lastCheckpoint;                                          // guarded by lock

    /** A live lease being metered. */
    private final class Running {
        final String leaseId;
        final String jobId;
        final Instant grantedAt;
        final String currency;
        final List<DeviceMeter> devices;
        final List<LeaseUsage.Gap> unobserved;
        Instant unseenSince;   // the agent did not watch from then to the next sweep (it restarted)
        String unseenWhy;
        volatile double joules;
        volatile double cost;
        final List<Meter> meters = new ArrayList<>();

        Running(String leaseId, String jobId, Instant grantedAt, String currency, List<DeviceMeter> devices,
                List<LeaseUsage.Gap> unobserved) {
            this.leaseId = leaseId;
            this.jobId = jobId;
            this.grantedAt = grantedAt;
            this.currency = currency;
            this.devices = devices;
            this.unobserved = new ArrayList<>(unobserved);
            this.joules = energyJoules();
        }

        double energyJoules() {
            double j = 0;
            for (DeviceMeter d : devices) {
                GpuUsage g = d.snapshot();
                j += g.gpuEnergyMj() * g.share() / 1000.0;
            }
            return j;
        }

        double shares() {
            double s = 0;
            for (DeviceMeter d : devices) {
                s += d.snapshot().share();
            }
            return s;
        }

        LeaseUsage usage(Instant endedAt, Instant savedAt) {
            return new LeaseUsage(leaseId, jobId, node, grantedAt, endedAt, savedAt, currency,
                    devices.stream().map(DeviceMeter::snapshot).toList(), unobserved);
        }
    }

    public UsageLedger(AgentConfig agent, UsageConfig config, CostConfig cost, JournalConfig journalConfig,
                       ObjectMapper mapper, SamplerService sampler, LeaseBook book, HealthModel health,
                       AgentRegistry agentRegistry, JournalWatch watch, Clock clock) {
        this.config = config;
        this.clock = clock;
        this.node = sampler.hostname();
        this.registry = agentRegistry.registry();
        this.sampler = sampler;
        this.pricesFile = cost.pricesFile();
        if (config.retention() < 1) {
            throw new IllegalArgumentException("gpu-agent.usage.retention must be at least 1 (days), got "
                    + config.retention());
        }
        if (!(config.idleThreshold() >= 0 && config.idleThreshold() <= 100)) {
            throw new IllegalArgumentException("gpu-agent.usage.idle-threshold must be a utilisation in percent "
                    + "from 0 to 100, got " + config.idleThreshold());
        }
        this.prices = pricesFile.map(this::readPrices).orElseGet(() -> Prices.of(cost));
        try {
            this.journal = UsageJournal.open(agent.stateDir(), mapper, journalConfig.onCorruption());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the usage journal in " + agent.stateDir() + " ("
                    + e.getMessage() + "); fix the state directory (gpu-agent.state-dir) and restart the agent", e);
        }
        this.writer = new ThreadPoolExecutor(1, 1, 30, TimeUnit.SECONDS, new ArrayBlockingQueue<>(WRITE_QUEUE),
                Thread.ofPlatform().daemon().name("usage-journal").factory());
        writer.allowCoreThreadTimeOut(true);   // no thread at rest
        Instant now = clock.instant();
        Instant keepFrom = now.minus(Duration.ofDays(config.retention()));
        synchronized (lock) {
            resumable.putAll(journal.restored().checkpoints());
            ended.putAll(journal.restored().ended());
            trimEnded(keepFrom);
            lastCheckpoint = now;
        }
        LOG.infof("usage: %d ended lease(s) and %d checkpoint(s) restored from %s", ended.size(), resumable.size(),
                journal.file());
        leasesChanged(book.leases());
        synchronized (lock) {
            starting = false;
            // Checkpoints of leases that are gone: they ended while the agent was down.
            List<LeaseUsage> gone = new ArrayList<>();
            for (LeaseUsage u : resumable.values()) {
                List<LeaseUsage.Gap> gaps = new ArrayList<>(u.unobserved());
                gaps.add(new LeaseUsage.Gap(u.savedAt(), now, "the lease ended while the agent was down; its usage "
                        + "after the last checkpoint is not known"));
                LeaseUsage last = new LeaseUsage(u.leaseId(), u.jobId(), u.node(), u.grantedAt(), u.savedAt(), now,
                        u.currency(), u.gpus(), gaps);
                ended(last);
                gone.add(last);
            }
            resumable.clear();
            write(gone, true);
        }
        book.addListener(this::leasesChanged);
        sampler.onSnapshot(this::sweep);
        health.addListener(new HealthListener() {
            @Override
            public void onChange(HealthEngine.Change c) {
                onDevice(d -> d.gpuUuid().equals(c.gpu().uuid()), d -> d.healthChange(c.gpu().since() + " "
                        + c.previous() + " -> " + c.gpu().state() + " (" + c.detector() + "): " + c.message()));
            }

            @Override
            public void onMigChange(HealthEngine.MigChange c) {
                onDevice(d -> d.uuid().equals(c.device().uuid()), d -> d.healthChange(clock.instant() + " "
                        + c.previous() + " -> " + c.device().state() + " (" + c.detector() + "): " + c.message()));
            }

            @Override
            public void onXid(GpuHealth gpu, int xid, XidClass xidClass) {
                onDevice(d -> d.gpuUuid().equals(gpu.uuid()), d -> d.xid(xid));
            }
        });
        watch.register(UsageJournal.FILE_NAME, new JournalWatch.Watched() {
            @Override
            public Optional<String> failure() {
                return journal.failure();
            }

            @Override
            public void reopen() throws IOException {
                List<LeaseUsage> keep;
                synchronized (lock) {
                    keep = keep(clock.instant());
                }
                journal.reopen(keep);
            }
        });
    }

    /**
     * The usage of a lease, live or ended (within the retention); empty when this node knows none. An ended lease
     * that is no longer among the {@link #RECENT} ones has its per-device detail read back from the file.
     */
    public Optional<UsageReport> report(String leaseId) {
        Instant now = clock.instant();
        UsageReport summary;
        synchronized (lock) {
            Running r = live.get(leaseId);
            LeaseUsage u = r != null ? r.usage(null, now) : recent.get(leaseId);
            if (u != null) {
                return Optional.of(UsageReport.of(u, now));
            }
            summary = ended.get(leaseId);
        }
        if (summary == null) {
            return Optional.empty();
        }
        try {
            Optional<LeaseUsage> whole = journal.find(leaseId);
            if (whole.isPresent() && whole.get().endedAt() != null) {
                return Optional.of(UsageReport.of(whole.get(), now));
            }
        } catch (IOException e) {
            LOG.warnf("cannot read lease %s's usage detail from %s (%s); answering its totals", leaseId, journal.file(),
                    e.getMessage());
        }
        return Optional.of(summary);
    }

    /**
     * Leases that overlap {@code [since, until)} (granted before {@code until}, running or ended at or after
     * {@code since}), of {@code job} when given, oldest grant first, at most {@code limit}.
     */
    public List<UsageReport> reports(Instant since, Instant until, String job, int limit) {
        Instant now = clock.instant();
        List<UsageReport> all = new ArrayList<>();
        synchronized (lock) {
            all.addAll(ended.values());
            live.values().forEach(r -> all.add(UsageReport.of(r.usage(null, now), now).summary()));
        }
        return all.stream()
                .filter(u -> job == null || u.jobId().equals(job))
                .filter(u -> until == null || u.grantedAt().isBefore(until))
                .filter(u -> since == null || u.endedAt() == null || !u.endedAt().isBefore(since))
                .sorted((a, b) -> a.grantedAt().compareTo(b.grantedAt()))
                .limit(limit)
                .toList();
    }

    /** The lease book's listener: runs under the book's lock, so it only moves things in memory and queues writes. */
    void leasesChanged(List<Lease> leases) {
        Instant now = clock.instant();
        synchronized (lock) {
            Set<String> ids = leases.stream().map(Lease::leaseId).collect(Collectors.toSet());
            List<LeaseUsage> lines = new ArrayList<>();
            for (Lease l : leases) {
                if (!live.containsKey(l.leaseId())) {
                    Running r = start(l, now);
                    live.put(l.leaseId(), r);
                    register(r);
                    lines.add(r.usage(null, now));
                }
            }
            for (var it = live.entrySet().iterator(); it.hasNext(); ) {
                Running r = it.next().getValue();
                if (!ids.contains(r.leaseId)) {
                    it.remove();
                    r.meters.forEach(registry::remove);
                    LeaseUsage last = r.usage(now, now);
                    ended(last);
                    lines.add(last);
                }
            }
            write(lines, true);
        }
    }

    private Running start(Lease l, Instant now) {
        LeaseUsage checkpoint = resumable.remove(l.leaseId());
        if (checkpoint != null) {
            Running r = new Running(l.leaseId(), l.jobId(), l.grantedAt(), checkpoint.currency(),
                    new ArrayList<>(checkpoint.gpus().stream().map(DeviceMeter::resume).toList()),
                    checkpoint.unobserved());
            r.unseenSince = checkpoint.savedAt();
            r.unseenWhy = "the agent was not running (restarted); energy from the counter, other readings not seen";
            LOG.infof("usage of lease %s resumed from its checkpoint of %s", l.leaseId(), checkpoint.savedAt());
            return r;
        }
        Snapshot snapshot = sampler.latest();
        List<DeviceMeter> devices = new ArrayList<>();
        for (int i = 0; i < l.gpus().size(); i++) {
            String uuid = l.gpus().get(i);
            Lease.MigDevice mig = l.mig().isEmpty() ? null : l.mig().get(i);
            String gpuUuid = mig == null ? uuid : mig.parentUuid();
            GpuSample s = snapshot == null ? null : snapshot.gpu(gpuUuid).orElse(null);
            String model = s == null ? "" : s.info().name();
            double share = mig == null ? 1.0 : migShare(s, mig);
            DeviceMeter d = DeviceMeter.start(uuid, gpuUuid, l.indices().get(i), model,
                    mig == null ? null : mig.profile(), share, l.grantedAt(), prices);
            if (s != null && !starting) {
                d.baseline(s);
            }
            devices.add(d);
        }
        Running r = new Running(l.leaseId(), l.jobId(), l.grantedAt(), prices.currency(), devices, List.of());
        if (starting) {
            // Granted before this start, with no checkpoint: the agent died before it wrote one.
            devices.forEach(d -> d.unseenSince(l.grantedAt()));
            r.unseenSince = l.grantedAt();
            r.unseenWhy = "the agent restarted before the lease's first checkpoint: the energy until the next sweep "
                    + "is power x time";
        }
        return r;
    }

    private static double migShare(GpuSample s, Lease.MigDevice mig) {
        MigSample m = s == null ? null : s.migDevice(mig.uuid());
        if (m != null) {
            long cis = s.migDevices().stream().filter(x -> x.info().gpuInstanceId() == mig.gpuInstanceId()).count();
            return DeviceMeter.migShare(m.info().slices(), (int) cis);
        }
        // Not in the last sweep: the profile's slice count ("3g.40gb", "1c.3g.40gb": the GPU instance's 3 slices)
        String p = mig.profile();
        int g = p.indexOf("g.");
        int start = p.lastIndexOf('.', g) + 1;
        try {
            return DeviceMeter.migShare(Integer.parseInt(p.substring(start, g)), 1);
        } catch (RuntimeException e) {
            return 1.0 / DeviceMeter.GPU_SLICES;
        }
    }

    private void register(Running r) {
        r.meters.add(FunctionCounter.builder("gpu_agent.lease.energy.joules", r, x -> x.joules)
                .description("Energy the live lease of this job used so far (its share of its GPUs' energy counters); "
                        + "gone when the lease ends (GET /v1/usage keeps it).")
                .tag("job", r.jobId).register(registry));
        r.meters.add(FunctionCounter.builder("gpu_agent.lease.gpu.seconds", r,
                        x -> Math.max(0, Duration.between(x.grantedAt, clock.instant()).toNanos() / 1e9) * x.shares())
                .description("GPU time the live lease of this job held so far (a MIG device counts its share); gone "
                        + "when the lease ends.")
                .tag("job", r.jobId).register(registry));
        r.meters.add(Gauge.builder("gpu_agent.lease.cost", r, x -> x.cost)
                .description("What the live lease of this job cost so far (energy x price + GPU-hours x rate, at the "
                        + "prices in force over time); gone when the lease ends.")
                .tag("job", r.jobId).tag("currency", r.currency).register(registry));
    }

    private boolean starting = true;   // guarded by lock: true while the constructor takes over the restored leases

    /** The sampler's listener, on its thread after every sweep. */
    void sweep(Snapshot snapshot) {
        Instant now = clock.instant();
        synchronized (lock) {
            pricesChanged(snapshot.takenAt());
            for (Running r : live.values()) {
                boolean unobserved = r.unseenSince != null;
                Instant seenAt = null;
                for (DeviceMeter d : r.devices) {
                    GpuSample s = snapshot.gpu(d.gpuUuid()).orElse(null);
                    if (s == null) {
                        continue;
                    }
                    MigSample m = d.mig() ? s.migDevice(d.uuid()) : null;
                    if (d.observe(s, m, config.idleThreshold(), unobserved)) {
                        LOG.infof("lease %s: the energy counter of GPU %s went down (driver reload or reset); "
                                + "counting goes on from its new value", r.leaseId, d.gpuUuid());
                    }
                    seenAt = d.readAt();
                }
                if (unobserved && seenAt != null) {
                    r.unobserved.add(new LeaseUsage.Gap(r.unseenSince, seenAt, r.unseenWhy));
                    r.unseenSince = null;
                }
                r.joules = r.energyJoules();
                r.cost = UsageReport.of(r.usage(null, now), now).cost().total().doubleValue();
            }
            if (Duration.between(lastCheckpoint, now).compareTo(config.checkpointInterval()) >= 0) {
                lastCheckpoint = now;
                write(live.values().stream().map(r -> r.usage(null, now)).toList(), false);
                trimEnded(now.minus(Duration.ofDays(config.retention())));
                if (journal.lineCount() > config.compactAtLines()) {
                    Set<String> keepEnded = Set.copyOf(UsageJournal.keep(ended, now.minus(Duration.ofDays(config.retention())),
                            config.maxEnded()));
                    List<LeaseUsage> keepLive = live.values().stream().map(r -> r.usage(null, now)).toList();
                    submit(() -> {
                        try {
                            journal.compact(keepEnded, keepLive);
                        } catch (IOException e) {
                            LOG.warnf("compacting %s failed (%s); tried again at a later checkpoint", journal.file(),
                                    e.getMessage());
                        }
                    }, false);
                }
            }
        }
    }

    private void onDevice(Predicate<DeviceMeter> which, java.util.function.Consumer<DeviceMeter> what) {
        synchronized (lock) {
            for (Running r : live.values()) {
                r.devices.stream().filter(which).forEach(what);
            }
        }
    }

    /**
     * Caller holds the lock: what a journal reopened after a failure is rewritten to: the live leases' checkpoints
     * and the {@link #RECENT} ended leases held whole (older ended leases stay answerable as totals until a restart).
     */
    private List<LeaseUsage> keep(Instant now) {
        List<LeaseUsage> all = new ArrayList<>(recent.values());
        live.values().forEach(r -> all.add(r.usage(null, now)));
        return all;
    }

    /** Caller holds the lock: a lease ended with these totals. */
    private void ended(LeaseUsage last) {
        ended.remove(last.leaseId());
        ended.put(last.leaseId(), UsageReport.of(last, last.endedAt()).summary());
        recent.put(last.leaseId(), last);
        var it = recent.keySet().iterator();
        while (recent.size() > RECENT && it.hasNext()) {
            it.next();
            it.remove();
        }
        var old = ended.keySet().iterator();   // the retention is applied at checkpoints; here only the count
        while (ended.size() > config.maxEnded() && old.hasNext()) {
            old.next();
            old.remove();
        }
    }

    /** Caller holds the lock. */
    private void trimEnded(Instant keepFrom) {
        ended.values().removeIf(u -> !u.endedAt().isAfter(keepFrom));
        var it = ended.entrySet().iterator();
        while (ended.size() > config.maxEnded() && it.hasNext()) {
            it.next();
            it.remove();
        }
        recent.keySet().retainAll(ended.keySet());
    }

    /** Caller holds the lock: reads a changed prices file and starts a new price period on every live device. */
    private void pricesChanged(Instant at) {
        if (pricesFile.isEmpty()) {
            return;
        }
        FileTime t;
        try {
            t = Files.getLastModifiedTime(pricesFile.get());
        } catch (IOException e) {
            return;   // gone for a moment (an editor's rename): the prices in force stay
        }
        if (t.equals(pricesSeen)) {
            return;
        }
        Prices next;
        try {
            next = readPrices(pricesFile.get());
        } catch (RuntimeException e) {
            pricesSeen = t;
            LOG.errorf("%s; the prices in force stay until the file is fixed", e.getMessage());
            return;
        }
        if (!next.equals(prices)) {
            LOG.infof("prices changed (%s): they apply from %s on", pricesFile.get(), at);
            prices = next;
            live.values().forEach(r -> r.devices.forEach(d -> d.reprice(next, at)));
        }
    }

    private Prices readPrices(Path file) {
        try {
            Prices p = Prices.read(file);
            pricesSeen = Files.getLastModifiedTime(file);
            return p;
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the prices file " + file + " (gpu-agent.cost.prices-file): "
                    + e.getMessage(), e);
        }
    }

    /** Caller holds the lock: queues the lines for one write and fsync. */
    private void write(List<LeaseUsage> lines, boolean must) {
        if (lines.isEmpty()) {
            return;
        }
        List<LeaseUsage> copy = List.copyOf(lines);
        submit(() -> {
            try {
                journal.appendAll(copy);
            } catch (IOException e) {
                LOG.errorf("could not write %d usage line(s) to %s (%s); the agent reopens it once the disk takes "
                        + "writes (see /health)", copy.size(), journal.file(), e.getMessage());
            }
        }, must);
    }

    private void submit(Runnable task, boolean must) {
        try {
            writer.execute(task);
        } catch (RejectedExecutionException e) {
            if (must) {
                task.run();   // a lease's end must not be lost to a full queue: write it here, rarely
            } else {
                LOG.warnf("usage journal writer is behind (%d lines queued); this checkpoint is skipped", WRITE_QUEUE);
            }
        }
    }

    @PreDestroy
    void close() {
        synchronized (lock) {
            Instant now = clock.instant();
            write(live.values().stream().map(r -> r.usage(null, now)).toList(), true);
        }
        writer.shutdown();
        try {
            writer.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        journal.close();
    }
}
