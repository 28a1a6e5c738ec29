package io.gpuagent.agent.lease;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.agent.AgentConfig;
import io.gpuagent.agent.AgentRegistry;
import io.gpuagent.agent.health.HealthModel;
import io.gpuagent.agent.journal.JournalConfig;
import io.gpuagent.agent.journal.JournalWatch;
import io.gpuagent.agent.sampler.HpcJobLabels;
import io.gpuagent.agent.sampler.SamplerService;
import io.gpuagent.agent.refusal.Refusal;
import io.quarkus.runtime.Startup;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.jboss.logging.Logger;

/**
 * The node's GPU leases: grants, heartbeats, releases and expiry, each journaled in
 * {@code state-dir/leases.jsonl} (fsync before it is acknowledged) and restored at start.
 *
 * <p>One lock orders every change: a grant checks the GPUs, journals the lease, and publishes it without
 * letting go, so no GPU is ever granted twice, and a {@code kill -9} at any moment either finds the grant in
 * the file (and it was maybe acknowledged) or not (and it was not). Readers ({@link #leaseOn}, the inventory,
 * the health listener, the metrics) see an immutable copy published after each change and never wait.
 */
@Startup
@ApplicationScoped
public class LeaseBook implements GpuLeases {

    private static final Logger LOG = Logger.getLogger(LeaseBook.class);

    /** Readings older than this many sample intervals make a GPU unavailable (the sampler is stuck). */
    static final int STALE_INTERVALS = 3;

    private final SamplerService sampler;
    private final HealthModel health;
    private final Cordons cordons;
    private final HpcJobLabels labels;
    private final LeaseEvents events;
    private final LeaseMeters meters;
    private final LeaseJournal journal;
    private final long compactAtLines;
    private long nextCompactAt;                                      // guarded by lock
    private final Duration staleAfter;
    private final Clock clock;
    private final ExpiryAlarm alarm;

    private final Object lock = new Object();
    private final Map<String, Lease> live = new LinkedHashMap<>();   // guarded by lock; grant order
    private long fencingToken;                                       // guarded by lock: the last one handed out

    private volatile Published published = new Published(List.of(), Map.of());
    private final List<Consumer<List<Lease>>> listeners = new CopyOnWriteArrayList<>();

    /** What readers see: live leases in grant order, and the lease holding each GPU (by UUID). */
    private record Published(List<Lease> leases, Map<String, Lease> byGpu) {
    }

    public LeaseBook(AgentConfig agent, LeaseConfig config, ObjectMapper mapper, SamplerService sampler,
                     AgentRegistry agentRegistry, HealthModel health, Cordons cordons, HpcJobLabels labels, LeaseEvents events,
                     JournalWatch watch, JournalConfig journalConfig, Clock clock) {
        this.clock = clock;
        this.alarm = new ExpiryAlarm(clock, this::expire);
        this.sampler = sampler;
        this.health = health;
        this.cordons = cordons;
        this.labels = labels;
        this.events = events;
        this.meters = new LeaseMeters(agentRegistry.registry());
        this.compactAtLines = config.leases().compactAtLines();
        this.nextCompactAt = compactAtLines;
        this.staleAfter = agent.sampleInterval().multipliedBy(STALE_INTERVALS);
        try {
            this.journal = LeaseJournal.open(agent.stateDir(), mapper, journalConfig.onCorruption());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the lease journal in " + agent.stateDir() + " (" + e.getMessage()
                    + "); fix the state directory (gpu-agent.state-dir) and restart the agent", e);
        }
        LeaseJournal.Restored restored = journal.restored();
        synchronized (lock) {
            live.putAll(restored.leases());
            fencingToken = restored.fencingToken();
            LOG.infof("leases: %d live lease(s) restored from %s, next fencing token %d", live.size(), journal.file(),
                    fencingToken + 1);
            expireDue(clock.instant());
            publish();
            maybeCompact();
        }
        watch.register(LeaseJournal.FILE_NAME, new JournalWatch.Watched() {
            @Override
            public Optional<String> failure() {
                return journal.failure();
            }

            @Override
            public void reopen() throws IOException {
                synchronized (lock) {   // live leases are exactly the acknowledged grants
                    journal.reopen(live.values(), fencingToken);
                    nextCompactAt = compactAtLines;
                }
            }
        });
    }

    /**
     * Grants a lease or says why not.
     *
     * @throws Refusal.Invalid     the request names GPUs this node does not have, or more than it has
     * @throws Refusal.Conflict    not now: the detail says which GPUs stand in the way and why
     * @throws Refusal.NotRecorded the journal failed; nothing was granted
     */
    public Lease grant(LeaseRequest request) {
        synchronized (lock) {
            Instant now = clock.instant();
            expireDue(now);
            try {
                Lease lease = decide(request, now);
                try {
                    journal.append(new LeaseEntry.Granted(lease));
                } catch (IOException e) {
                    meters.request("failed");
                    throw notRecorded("grant", e);
                }
                live.put(lease.leaseId(), lease);
                publish();
                maybeCompact();
                meters.request("granted");
                String message = "lease " + lease.leaseId() + " granted to job " + lease.jobId() + ": "
                        + lease.devices() + ", until " + lease.expiresAt() + ", fencing token " + lease.fencingToken();
                LOG.info(message);
                events.post(LeaseEvents.GRANTED, message);
                return lease;
            } catch (Refusal.Conflict e) {
                meters.request("refused");
                throw e;
            } catch (Refusal.Invalid e) {
                meters.request("invalid");
                throw e;
            }
        }
    }

    /** The live lease {@code leaseId} after expiring what is due at {@code now}; 404 when there is none. Under the lock. */
    private Lease liveLease(String leaseId, Instant now) {
        expireDue(now);
        Lease lease = live.get(leaseId);
        if (lease == null) {
            throw unknown(leaseId);
        }
        return lease;
    }

    /** The refusal for a lease id that names no live lease. */
    public static Refusal.Unknown unknown(String leaseId) {
        return new Refusal.Unknown("no live lease " + leaseId + " on this node (never granted, released, or expired); "
                + "GET /v1/leases lists the live ones");
    }

    /** Moves the lease's expiry to now + its ttl. */
    public Lease heartbeat(String leaseId) {
        synchronized (lock) {
            Instant now = clock.instant();
            Lease lease = liveLease(leaseId, now);
            Lease renewed = lease.withExpiresAt(now.plusSeconds(lease.ttlSeconds()));
            try {
                journal.append(new LeaseEntry.Heartbeat(leaseId, renewed.expiresAt(), now));
            } catch (IOException e) {
                throw notRecorded("heartbeat", e);
            }
            live.put(leaseId, renewed);
            publish();
            maybeCompact();
            return renewed;
        }
    }

    /** Releases the lease (its holder is done); its GPUs are free when this returns. */
    public void release(String leaseId) {
        synchronized (lock) {
            Instant now = clock.instant();
            Lease lease = liveLease(leaseId, now);
            try {
                journal.append(new LeaseEntry.Released(leaseId, "released by its holder", now));
            } catch (IOException e) {
                throw notRecorded("release", e);
            }
            live.remove(leaseId);
            publish();
            maybeCompact();
            meters.ended("released");
            String message = "lease " + leaseId + " of job " + lease.jobId() + " released: " + lease.devices() + " free";
            LOG.info(message);
            events.post(LeaseEvents.RELEASED, message);
        }
    }

    /**
     * Calls {@code listener} with the live leases after every change (grant, heartbeat, release, expiry,
     * end), e.g. to send the coordinator a heartbeat at once. It runs under the book's lock: hand off, never
     * block, never call back into the book. A listener that throws is logged and kept.
     */
    public void addListener(Consumer<List<Lease>> listener) {
        listeners.add(listener);
    }

    /** Counts a request refused before it reached the book (malformed body, bad field): 400. */
    public void countInvalidRequest() {
        meters.request("invalid");
    }

    /** The live leases, in grant order. */
    public List<Lease> leases() {
        Instant now = clock.instant();
        return published.leases().stream().filter(l -> !l.expiredAt(now)).toList();
    }

    public Optional<Lease> lease(String leaseId) {
        Instant now = clock.instant();
        return published.leases().stream().filter(l -> l.leaseId().equals(leaseId) && !l.expiredAt(now)).findFirst();
    }

    @Override
    public Optional<Held> leaseOn(String uuid) {
        Lease l = published.byGpu().get(uuid);
        return l == null || l.expiredAt(clock.instant()) ? Optional.empty() : Optional.of(l.held());
    }

    @Override
    public List<Held> leasesOn(String uuid) {
        return Lease.holding(uuid, published.leases(), clock.instant());
    }

    @Override
    public int endLeasesOn(String uuid, String reason) {
        synchronized (lock) {
            Instant now = clock.instant();
            expireDue(now);
            List<Lease> ending = live.values().stream().filter(l -> l.holds(uuid)).toList();
            if (ending.isEmpty()) {
                return 0;
            }
            try {
                journal.appendAll(ending.stream().map(l -> new LeaseEntry.Released(l.leaseId(), "ended by the agent: "
                        + reason, now)).toList());
            } catch (IOException e) {
                throw new UncheckedIOException("could not end the lease(s) on GPU " + uuid + ": the lease journal "
                        + journal.file() + " failed (" + e.getMessage() + ")", e);
            }
            for (Lease l : ending) {
                live.remove(l.leaseId());
                meters.ended("ended");
                String message = "lease " + l.leaseId() + " of job " + l.jobId() + " ended by the agent (" + reason
                        + "): " + l.devices() + " free";
                LOG.warn(message);
                events.post(LeaseEvents.ENDED, message);
            }
            publish();
            maybeCompact();
            return ending.size();
        }
    }

    /** Frees expired leases, journaling each; the alarm calls it at the earliest expiry, and so does every change. */
    void expire() {
        synchronized (lock) {
            if (expireDue(clock.instant())) {
                maybeCompact();
            }
        }
    }

    /** The GPUs and MIG devices as placement sees them now (for the inventory), with their topology. */
    Standings standings() {
        Instant now = clock.instant();
        return Standings.of(sampler.latest(), health.gpus(), cordons, Holders.of(published.leases(), now), now,
                staleAfter);
    }

    /** True when something expired (then published). Caller holds the lock. */
    private boolean expireDue(Instant now) {
        List<Lease> due = live.values().stream().filter(l -> l.expiredAt(now)).toList();
        if (due.isEmpty()) {
            return false;
        }
        try {
            journal.appendAll(due.stream().map(l -> new LeaseEntry.Expired(l.leaseId(), now)).toList());
        } catch (IOException e) {
            // Kept in memory as expired anyway: they are past their expiry, so a restart drops them too.
            LOG.errorf("could not journal the expiry of %d lease(s) in %s (%s); they are freed anyway", due.size(),
                    journal.file(), e.getMessage());
        }
        for (Lease l : due) {
            live.remove(l.leaseId());
            meters.ended("expired");
            String message = "lease " + l.leaseId() + " of job " + l.jobId() + " expired at " + l.expiresAt()
                    + " without a heartbeat: " + l.devices() + " free";
            LOG.info(message);
            events.post(LeaseEvents.EXPIRED, message);
        }
        publish();
        return true;
    }

    private Lease decide(LeaseRequest request, Instant now) {
        Lease held = live.values().stream().filter(l -> l.jobId().equals(request.jobId())).findFirst().orElse(null);
        if (held != null) {
            throw new Refusal.Conflict("job " + request.jobId() + " already holds lease " + held.leaseId()
                    + " (" + held.devices() + ", until " + held.expiresAt() + "); heartbeat or release it "
                    + "instead of asking again");
        }
        Lease lease = LeaseAdmission.lease(request, standings(), UUID.randomUUID().toString(), now, fencingToken + 1);
        fencingToken++;
        return lease;
    }

    /** Caller holds the lock. */
    private void publish() {
        Map<String, Lease> byGpu = new HashMap<>();
        Map<String, String> jobs = new HashMap<>();
        for (Lease l : live.values()) {
            l.gpus().forEach(u -> {
                byGpu.put(u, l);
                jobs.put(u, l.jobId());
            });
        }
        List<Lease> leases = List.copyOf(live.values());
        published = new Published(leases, Map.copyOf(byGpu));
        alarm.wakeAt(leases.stream().map(Lease::expiresAt).min(Instant::compareTo).orElse(null));
        labels.publish(jobs);
        meters.sync(leases);
        for (Consumer<List<Lease>> l : listeners) {
            try {
                l.accept(leases);
            } catch (RuntimeException e) {
                LOG.errorf(e, "lease listener %s failed; it stays registered", l.getClass().getName());
            }
        }
    }

    /** Caller holds the lock. */
    private void maybeCompact() {
        if (journal.lineCount() <= nextCompactAt) {
            return;
        }
        try {
            journal.compact(live.values(), fencingToken);
            nextCompactAt = compactAtLines;
        } catch (IOException e) {
            nextCompactAt = journal.lineCount() + compactAtLines;   // not on every change: after another batch
            LOG.warnf("compacting %s failed (%s); it is tried again after %d more lines", journal.file(),
                    e.getMessage(), compactAtLines);
        }
    }

    private Refusal.NotRecorded notRecorded(String what, IOException e) {
        LOG.errorf("lease %s not recorded: the journal %s failed (%s)", what, journal.file(), e.getMessage());
        return new Refusal.NotRecorded("the " + what + " could not be recorded durably in " + journal.file() + " ("
                + e.getMessage() + "), so it was not done; check the state directory's disk (the agent reopens the journal once it takes writes again; see /health)", e);
    }

    @PreDestroy
    void close() {
        alarm.close();
        synchronized (lock) {
            journal.close();
        }
    }
}
