package io.gpuagent.agent.coordinator;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.agent.AgentConfig;
import io.gpuagent.agent.AgentRegistry;
import io.gpuagent.agent.auth.RefusalLog;
import io.gpuagent.agent.http.problem.Problem;
import io.gpuagent.agent.journal.AgentEvent;
import io.gpuagent.agent.usage.UsageReport;
import io.gpuagent.agent.usage.UsageTotals;
import io.gpuagent.agent.journal.EventLog;
import io.gpuagent.agent.journal.JournalConfig;
import io.gpuagent.agent.journal.JournalDamaged;
import io.gpuagent.agent.journal.JournalMeters;
import io.gpuagent.agent.journal.JsonlJournal;
import io.gpuagent.agent.lease.Inventory;
import io.gpuagent.agent.refusal.Refusal;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.jboss.logging.Logger;

/**
 * The coordinator role ({@code gpu-agent.role=coordinator}): keeps the node list from the agents' heartbeats,
 * drops silent nodes, places jobs by asking {@link Placer} and taking the leases on the agents, and releases
 * them. Placements are journaled ({@link PlacementBook}) so a restarted coordinator can still release them.
 * In the agent role this bean does nothing and opens nothing.
 */
@ApplicationScoped
public class Coordinator {

    private static final Logger LOG = Logger.getLogger(Coordinator.class);
    /** A node heartbeating from the wrong URL does so every few seconds: one line per minute, not one per beat. */
    private final RefusalLog refusals = new RefusalLog(System::nanoTime, LOG::warn);

    /** Event kind of node registrations and drops in the event log. */
    public static final String NODE_EVENT = "node";
    static final String DETECTOR = "coordinator";

    private final CoordinatorConfig config;
    private final NodeRole role;
    private final AgentLeases leases;
    private final EventLog events;
    private final MeterRegistry meters;
    private final Path stateDir;
    private final ObjectMapper mapper;
    private final NodeRegistry registry;
    private final Clock clock;
    /** Jobs whose placement is being made right now: a second request for the same job gets 409. */
    private final Set<String> placing = ConcurrentHashMap.newKeySet();

    private final JsonlJournal.OnCorruption onCorruption;
    private volatile PlacementBook book;
    private volatile NodeBindings bindings;
    private volatile String bookProblem = "the coordinator is starting";
    private PlacementSweep sweep;
    private CoordinatorMeters counts;

    public Coordinator(CoordinatorConfig config, NodeRole role, AgentLeases leases, EventLog events,
                       AgentRegistry agentRegistry, AgentConfig agent, ObjectMapper mapper, JournalConfig journal,
                       Clock clock) {
        this.clock = clock;
        this.config = config;
        this.onCorruption = journal.onCorruption();
        this.role = role;
        this.leases = leases;
        this.events = events;
        this.meters = agentRegistry.registry();
        this.stateDir = agent.stateDir();
        this.mapper = mapper;
        this.registry = new NodeRegistry(clock, config.nodeTimeout());
    }

    void start(@Observes StartupEvent event) {
        if (!role.coordinator()) {
            return;
        }
        try {
            book = new PlacementBook(stateDir, mapper, onCorruption, clock);
            bookProblem = null;
        } catch (JournalDamaged e) {
            // As every journal: a dropped line can change state silently (a lost "ended" keeps leases held).
            throw new IllegalStateException("the coordinator refuses to start: " + e.getMessage(), e);
        } catch (IOException | RuntimeException e) {
            bookProblem = "the placement journal " + stateDir.resolve(PlacementBook.FILE_NAME)
                    + " cannot be opened (" + e.getMessage() + "); fix the state directory and restart the coordinator";
            LOG.error(bookProblem);
        }
        try {
            bindings = new NodeBindings(stateDir, mapper, onCorruption, clock);
        } catch (JournalDamaged e) {
            throw new IllegalStateException("the coordinator refuses to start: " + e.getMessage(), e);
        } catch (IOException | RuntimeException e) {
            LOG.errorf("the node bindings %s cannot be opened (%s); heartbeats are refused until the state "
                    + "directory is fixed and the coordinator restarted", stateDir.resolve(NodeBindings.FILE_NAME),
                    e.getMessage());
        }
        counts = new CoordinatorMeters(meters, registry, () -> book);
        Duration timeout = config.nodeTimeout();
        if (timeout.compareTo(config.heartbeatInterval().multipliedBy(2)) < 0) {
            LOG.warnf("gpu-agent.coordinator.node-timeout (%s) is under two heartbeat intervals (%s): one late "
                    + "heartbeat drops a node; make it at least 3 intervals", timeout, config.heartbeatInterval());
        }
        sweep = new PlacementSweep(registry, () -> book, this::droppedNode, this::record);
        sweep.start(Duration.ofMillis(Math.max(100, timeout.toMillis() / 5)));
        LOG.infof("coordinator: %d placement(s) restored; nodes are dropped after %s without a heartbeat",
                book == null ? 0 : book.size(), timeout);
    }

    void stop(@Observes ShutdownEvent event) {
        if (sweep != null) {
            sweep.close();
        }
        if (book != null) {
            book.close();
        }
        if (bindings != null) {
            bindings.close();
        }
    }

    public boolean active() {
        return role.coordinator();
    }

    /**
     * An agent's heartbeat; returns the interval the coordinator expects. A heartbeat that would move a
     * registered name to another agentUrl is refused (409): the coordinator sends the coordinator credential to
     * that URL and hands its answer to jobs, so only an operator may move a name ({@link #forget}).
     */
    public Duration heartbeat(Inventory inv) {
        NodeRegistry.problem(inv).ifPresent(p -> {
            throw new Refusal.Invalid(p);
        });
        leases.urls().check(inv.agentUrl()).ifPresent(p -> {
            throw p.status() == 403 ? new Refusal.Forbidden(p.detail()) : new Refusal.Invalid(p.detail());
        });
        NodeBindings b = bindings;
        if (b == null) {
            throw new Refusal.NotRecorded("the coordinator cannot record which agentUrl node " + inv.node() + " is "
                    + "bound to (" + NodeBindings.FILE_NAME + " is not open); its operator must fix the state directory");
        }
        String bound;
        try {
            bound = b.bind(inv.node(), inv.agentUrl());
        } catch (NodeBindings.Full f) {
            throw new Refusal.Conflict(f.getMessage());
        } catch (IOException e) {
            throw new Refusal.NotRecorded("the binding of node " + inv.node() + " to " + inv.agentUrl() + " could not "
                    + "be recorded (" + e.getMessage() + "); the coordinator's operator must fix its state directory");
        }
        boolean fresh;
        try {
            if (!bound.equals(inv.agentUrl())) {
                throw new NodeRegistry.Moved(inv.node(), bound, inv.agentUrl());
            }
            fresh = registry.heartbeat(inv);
        } catch (NodeRegistry.Moved m) {
            refusals.warn(RefusalLog.Kind.HEARTBEAT_MOVED, "refused a heartbeat as node " + inv.node() + " from "
                    + inv.agentUrl() + ": the node is registered from " + m.boundUrl() + ". If it really moved, an "
                    + "operator must POST /v1/nodes/" + inv.node() + "/forget on the coordinator; otherwise two agents "
                    + "share gpu-agent.hostname");
            throw new Refusal.Conflict(m.getMessage() + "; a heartbeat cannot move a node name to another "
                    + "agentUrl. If the node moved, an operator must POST /v1/nodes/" + inv.node() + "/forget first");
        }
        if (fresh) {
            int leasable = (int) inv.gpus().stream().filter(Placer::placeable).count();
            int migLeasable = (int) inv.mig().stream().filter(Placer::placeable).count();
            String message = "node " + inv.node() + " registered (" + inv.agentUrl() + ", " + inv.gpus().size()
                    + " GPUs, " + leasable + " leasable" + (inv.mig().isEmpty() ? ""
                    : "; " + inv.mig().size() + " MIG devices, " + migLeasable + " leasable") + ")";
            LOG.info(message);
            record(AgentEvent.of(null, null, NODE_EVENT, DETECTOR, "NODE_REGISTERED", message));
        }
        return config.heartbeatInterval();
    }

    /** An operator forgets a node, so that it may register again from another agentUrl; false when unknown. */
    public boolean forget(String node) {
        boolean durable;
        try {
            NodeBindings b = bindings;
            durable = b != null && b.forget(node);
        } catch (IOException e) {
            throw new Refusal.NotRecorded("node " + node + " could not be forgotten durably (" + e.getMessage()
                    + "); fix the coordinator's state directory and ask again");
        }
        if (!registry.forget(node) && !durable) {
            return false;
        }
        String message = "node " + node + " forgotten by an operator; its next heartbeat registers it again, from "
                + "whatever agentUrl it sends";
        LOG.info(message);
        record(AgentEvent.of(null, null, NODE_EVENT, DETECTOR, "NODE_FORGOTTEN", message));
        return true;
    }

    public List<NodeRegistry.Node> nodes() {
        registry.dropSilent().forEach(this::droppedNode);
        return registry.nodes();
    }

    /**
     * Places a job.
     *
     * @throws Refusal.Conflict    nothing fits now, or the job is already placed (or being placed)
     * @throws Refusal.NotRecorded the placement journal is not open or could not record it
     */
    public Placement place(String jobId, Placer.Ask ask, Integer ttlSeconds) {
        PlacementBook b = book();
        if (!placing.add(jobId)) {
            throw new Refusal.Conflict("job " + jobId + " is being placed by another request right now");
        }
        try {
            b.ofJob(jobId).ifPresent(p -> {
                throw new Refusal.Conflict("job " + jobId + " already has placement " + p.placementId()
                        + "; release it first (DELETE /v1/placements/" + p.placementId() + ")");
            });
            nodes();   // drop silent nodes before choosing
            return placeOnce(b, jobId, ask, ttlSeconds);
        } finally {
            placing.remove(jobId);
        }
    }

    private Placement placeOnce(PlacementBook b, String jobId, Placer.Ask ask, Integer ttlSeconds) {
        Map<String, Set<String>> exclude = new HashMap<>();
        List<String> refusals = new ArrayList<>();
        while (true) {
            Placer.Candidate c;
            List<Inventory> view;
            synchronized (registry) {
                view = registry.placeable(exclude);
                List<Placer.Candidate> cs = Placer.candidates(view, ask);
                if (cs.isEmpty()) {
                    counts.noFit();
                    throw new Refusal.Conflict("nothing fits " + ask.what()
                            + (ask.sameNvlinkDomain() ? " in one NVLink domain" : "")
                            + (ask.minMemoryMiB() != null ? " with " + ask.minMemoryMiB() + " MiB free" : "")
                            + " now (the coordinator does not queue; ask again later): " + Placer.describe(view, ask)
                            + (refusals.isEmpty() ? "" : "; agents refused: " + String.join("; ", refusals)));
                }
                c = cs.getFirst();
                registry.hold(c);
            }
            List<Placement.Allocation> got = new ArrayList<>();
            Instant expires = null;
            boolean ok = true;
            for (Placer.Part part : c.parts()) {
                switch (leases.take(part, jobId, ttlSeconds)) {
                    case AgentLeases.Granted g -> {
                        got.add(g.allocation());
                        registry.granted(part.node(), part.uuids());
                        expires = expires == null || g.expiresAt().isBefore(expires) ? g.expiresAt() : expires;
                    }
                    case AgentLeases.Refused r -> {
                        // The node's inventory was stale: skip these GPUs, the node may still have others.
                        exclude.computeIfAbsent(part.node(), k -> new HashSet<>()).addAll(part.uuids());
                        refusals.add(r.detail());
                        LOG.infof("placing job %s: %s refused %s (%s); trying the next candidate", jobId, part.node(),
                                part.uuids(), r.detail());
                        ok = false;
                    }
                    case AgentLeases.Failed f -> {
                        Set<String> all = registry.node(part.node()).map(n -> allDevices(n.inventory()))
                                .orElse(Set.copyOf(part.uuids()));
                        exclude.computeIfAbsent(part.node(), k -> new HashSet<>()).addAll(all);
                        refusals.add(f.detail());
                        LOG.warnf("placing job %s: %s; trying another node", jobId, f.detail());
                        ok = false;
                    }
                }
                if (!ok) {
                    counts.refused();
                    break;
                }
            }
            if (ok) {
                Placement p = new Placement(UUID.randomUUID().toString(), jobId, got, expires);
                try {
                    b.add(p);
                } catch (IOException | RuntimeException e) {
                    releaseAll(got, "the placement could not be journaled");
                    registry.unhold(c);
                    throw new Refusal.NotRecorded("the placement could not be recorded in "
                            + PlacementBook.FILE_NAME + " (" + e.getMessage() + "), so its leases were released; "
                            + "fix the coordinator's state directory (disk full? read-only?) and ask again");
                }
                counts.placed();
                String message = "placed job " + jobId + " as " + p.placementId() + ": " + got.stream()
                        .map(a -> a.node() + " " + a.gpus() + " lease " + a.leaseId()).collect(Collectors.joining(", "));
                LOG.info(message);
                record(AgentEvent.of(null, null, AgentEvent.ACTION, DETECTOR, "PLACED", message));
                return p;
            }
            releaseAll(got, "a later lease of the same placement failed");
            registry.unhold(c);   // the refused GPUs stay in exclude, for this request only
        }
    }

    /** The UUIDs of every GPU and MIG device of a node. */
    private static Set<String> allDevices(Inventory inv) {
        Set<String> all = new HashSet<>();
        inv.gpus().forEach(g -> all.add(g.uuid()));
        inv.mig().forEach(m -> all.add(m.uuid()));
        return all;
    }

    /** Releases leases taken for a placement that did not complete; a lease that stays ends at its ttl. */
    private void releaseAll(List<Placement.Allocation> got, String why) {
        for (Placement.Allocation a : got) {
            AgentLeases.Release r = leases.release(a.node(), a.agentUrl(), a.leaseId());
            if (r instanceof AgentLeases.NotReleased n) {
                LOG.warnf("could not release lease %s on %s after %s: %s; it ends by itself at its ttl", a.leaseId(),
                        a.node(), why, n.detail());
            } else {
                registry.released(a.node(), a.gpus());
            }
        }
    }

    /**
     * Releases every lease of the placement.
     *
     * @throws Refusal.Unknown     no such live placement
     * @throws Refusal.PeerFailed  an agent could not be asked or did not release; the placement keeps those leases
     * @throws Refusal.NotRecorded the journal could not record the release
     */
    public void release(String placementId) {
        PlacementBook b = book();
        Placement p = b.get(placementId).orElseThrow(() -> new Refusal.Unknown("no placement " + placementId
                + " (already released, or never made here); GET /v1/placements lists the live ones"));
        List<Placement.Allocation> left = new ArrayList<>();
        List<String> why = new ArrayList<>();
        for (Placement.Allocation a : p.allocations()) {
            AgentLeases.Release r = leases.release(a.node(), a.agentUrl(), a.leaseId());
            switch (r) {
                case AgentLeases.Released x -> registry.released(a.node(), a.gpus());
                case AgentLeases.NotReleased n -> {
                    left.add(a);
                    why.add(a.node() + " lease " + a.leaseId() + ": " + n.detail());
                }
            }
        }
        try {
            if (left.isEmpty()) {
                remember(p);
                if (b.end(placementId, "released")) {
                    String message = "released placement " + placementId + " of job " + p.jobId();
                    LOG.info(message);
                    record(AgentEvent.of(null, null, AgentEvent.ACTION, DETECTOR, "RELEASED", message));
                }
                return;
            }
            b.update(p.withAllocations(left));
        } catch (IOException e) {
            throw new Refusal.NotRecorded("the leases were released on the agents but "
                    + PlacementBook.FILE_NAME + " could not record it (" + e.getMessage() + "); fix the coordinator's "
                    + "state directory; DELETE again is safe");
        }
        throw new Refusal.PeerFailed("could not release " + left.size() + " of " + p.allocations().size()
                + " lease(s): " + String.join("; ", why) + ". The placement keeps them: DELETE again once the agent "
                + "answers; an unreleased lease ends by itself when its ttl passes without a heartbeat");
    }

    public List<Placement> placements() {
        return book().all();
    }

    /** Released placements kept in memory so that their usage can still be summed (not across a restart). */
    static final int RELEASED_KEPT = 1024;
    private final Map<String, Placement> released = new LinkedHashMap<>();   // guarded by itself; release order

    private void remember(Placement p) {
        synchronized (released) {
            released.put(p.placementId(), p);
            var it = released.keySet().iterator();
            while (released.size() > RELEASED_KEPT && it.hasNext()) {
                it.next();
                it.remove();
            }
        }
    }

    /** The usage of a placement's leases, summed across its nodes (docs/usage.md#placements). */
    public record PlacementUsage(String placementId, String jobId, UsageTotals totals, List<NodeUsage> nodes) {
    }

    /** One lease of a placement: its usage, or why the node could not say ({@code missing}). */
    public record NodeUsage(String node, String leaseId, UsageReport usage, String missing) {
    }

    /**
     * Asks each node of a live or recently released placement ({@link #RELEASED_KEPT}) for its lease's usage and
     * sums them. A node that cannot answer is listed with why, and the totals are then flagged estimated.
     */
    public PlacementUsage usage(String placementId) {
        Placement p = book().get(placementId).orElseGet(() -> {
            synchronized (released) {
                return released.get(placementId);
            }
        });
        if (p == null) {
            throw new Refusal.Unknown("no placement " + placementId + " live or recently released on this coordinator; "
                    + "ask each node's GET /v1/usage?job=<job> instead");
        }
        List<NodeUsage> nodes = new ArrayList<>();
        List<UsageReport> found = new ArrayList<>();
        for (Placement.Allocation a : p.allocations()) {
            switch (leases.usage(a.node(), a.agentUrl(), a.leaseId())) {
                case AgentLeases.UsageOf u -> {
                    nodes.add(new NodeUsage(a.node(), a.leaseId(), u.usage().summary(), null));
                    found.add(u.usage());
                }
                case AgentLeases.UsageMissing m -> nodes.add(new NodeUsage(a.node(), a.leaseId(), null, m.detail()));
            }
        }
        UsageTotals t = UsageTotals.of(found);
        if (found.size() < nodes.size()) {
            t = new UsageTotals(t.leases(), t.energyJoules(), t.gpuSeconds(), t.cost(), true);
        }
        return new PlacementUsage(placementId, p.jobId(), t, nodes);
    }

    public Placement placement(String id) {
        return book().get(id).orElseThrow(() -> new Refusal.Unknown("no placement " + id));
    }

    private void droppedNode(NodeRegistry.Dropped d) {
        counts.dropped();
        String message = "node " + d.node() + " dropped: no heartbeat for " + d.silent().toMillis() + " ms (node-timeout "
                + registry.timeout() + "); its GPUs are not placed until it heartbeats again. Check the agent on "
                + d.node() + " (" + d.agentUrl() + ") and its gpu-agent.coordinator.url";
        LOG.warn(message);
        record(AgentEvent.of(null, null, NODE_EVENT, DETECTOR, "NODE_DROPPED", message));
    }

    private void record(AgentEvent e) {
        try {
            events.append(e);
        } catch (RuntimeException x) {
            LOG.errorf("could not record in the event log (%s): %s", x.getMessage(), e.message());
        }
    }

    private PlacementBook book() {
        PlacementBook b = book;
        if (b == null) {
            throw new Refusal.NotRecorded(bookProblem);
        }
        return b;
    }
}
