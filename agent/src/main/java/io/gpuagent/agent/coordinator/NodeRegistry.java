package io.gpuagent.agent.coordinator;

import io.gpuagent.agent.lease.Inventory;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The coordinator's node list: each node's last inventory and when it came, plus the GPUs this coordinator
 * has taken since (held), so that two placements in quick succession never pick the same GPUs before the
 * node's next heartbeat says they are leased. A node whose last heartbeat is older than the node timeout is
 * dropped. Thread-safe; every method is quick (no I/O).
 */
public final class NodeRegistry {

    /** A registered node as {@code GET /v1/nodes} shows it. */
    public record Node(String node, String agentUrl, Instant lastHeartbeat, Inventory inventory) {
    }

    /** A node that was dropped, and how long it had been silent. */
    public record Dropped(String node, String agentUrl, Duration silent) {
    }

    private final Clock clock;
    private final Duration timeout;

    // guarded by this
    private final Map<String, Node> nodes = new HashMap<>();
    /**
     * node -> the agentUrl it first registered from. Kept when the node is dropped, so a silent node's name
     * cannot be taken over from elsewhere; only {@link #forget} (an operator) frees it.
     */
    private final Map<String, String> boundUrl = new HashMap<>();
    /** node -> uuid -> since when this coordinator holds it (a lease in flight or granted, not yet heartbeated). */
    private final Map<String, Map<String, Instant>> held = new HashMap<>();

    public NodeRegistry(Clock clock, Duration timeout) {
        this.clock = clock;
        this.timeout = timeout;
    }

    /**
     * Checks an inventory sent by an agent.
     *
     * @throws IllegalArgumentException with {@link #problem}'s message when it cannot be used to place jobs
     */
    public static void validate(Inventory inv) {
        problem(inv).ifPresent(p -> {
            throw new IllegalArgumentException(p);
        });
    }

    /** What makes an inventory sent by an agent unusable for placing jobs, in words for the agent's operator. */
    public static Optional<String> problem(Inventory inv) {
        if (inv == null) {
            return Optional.of("the body must be the agent's inventory (GET /v1/inventory)");
        }
        if (inv.node() == null || inv.node().isBlank() || inv.node().length() > 253) {
            return Optional.of("\"node\" must be the node's name (1-253 characters)");
        }
        if (inv.agentUrl() == null) {
            return Optional.of("\"agentUrl\" is missing: the coordinator needs it to take leases");
        }
        String urlProblem;
        try {
            URI u = URI.create(inv.agentUrl());
            urlProblem = ("http".equals(u.getScheme()) || "https".equals(u.getScheme())) && u.getHost() != null ? null
                    : "scheme or host missing";
        } catch (IllegalArgumentException e) {   // URI.create's way to say "not a URI"
            urlProblem = e.getMessage();
        }
        if (urlProblem != null) {
            return Optional.of("\"agentUrl\" " + inv.agentUrl() + " is not an http(s) URL with a host"
                    + " that the coordinator can reach (" + urlProblem + ")");
        }
        Set<String> uuids = new HashSet<>();
        Map<Integer, Integer> migPerGpu = new HashMap<>();
        for (Inventory.Gpu g : inv.gpus()) {
            if (g == null || g.uuid() == null || g.uuid().isBlank() || g.health() == null) {
                return Optional.of("every GPU needs \"uuid\" and \"health\"");
            }
            if (!uuids.add(g.uuid())) {
                return Optional.of("GPU " + g.uuid() + " appears twice");
            }
            migPerGpu.put(g.index(), 0);
        }
        for (Inventory.Mig m : inv.mig()) {
            if (m == null || m.uuid() == null || !m.uuid().startsWith("MIG-") || m.profile() == null
                    || m.profile().isBlank() || m.health() == null) {
                return Optional.of("every MIG device needs \"uuid\" (MIG-...), \"profile\" and \"health\"");
            }
            if (!uuids.add(m.uuid())) {
                return Optional.of("device " + m.uuid() + " appears twice");
            }
            Integer onGpu = migPerGpu.get(m.gpu());
            if (onGpu == null) {
                return Optional.of("MIG device " + m.uuid() + " is on GPU " + m.gpu() + ", which is not in \"gpus\"");
            }
            if (onGpu == Inventory.MAX_MIG_PER_GPU) {
                return Optional.of("GPU " + m.gpu() + " has more than " + Inventory.MAX_MIG_PER_GPU + " MIG devices");
            }
            migPerGpu.put(m.gpu(), onGpu + 1);
        }
        for (Inventory.Link l : inv.links()) {
            if (l == null || l.a() == null || l.b() == null) {
                return Optional.of("every link needs \"a\" and \"b\"");
            }
        }
        return Optional.empty();
    }

    /** A heartbeat that would move a node name to another agentUrl: refused until an operator forgets it. */
    public static final class Moved extends RuntimeException {
        private final String boundUrl;

        public Moved(String node, String boundUrl, String newUrl) {
            super("node " + node + " is registered from " + boundUrl + ", not " + newUrl);
            this.boundUrl = boundUrl;
        }

        public String boundUrl() {
            return boundUrl;
        }
    }

    /**
     * Records a heartbeat; true when the node was not registered (first heartbeat, or back after a drop).
     *
     * @throws Moved when the node is bound to another agentUrl
     */
    public synchronized boolean heartbeat(Inventory inv) {
        validate(inv);
        String bound = boundUrl.putIfAbsent(inv.node(), inv.agentUrl());
        if (bound != null && !bound.equals(inv.agentUrl())) {
            throw new Moved(inv.node(), bound, inv.agentUrl());
        }
        Instant now = clock.instant();
        Node before = nodes.put(inv.node(), new Node(inv.node(), inv.agentUrl(), now, inv));
        Map<String, Instant> mine = held.get(inv.node());
        if (mine != null) {
            // The agent's own view now shows the lease (or the GPU gone for another reason): ours is no longer needed.
            Map<String, String> leased = leaseIds(inv);
            mine.entrySet().removeIf(e -> !leased.containsKey(e.getKey()) || leased.get(e.getKey()) != null
                    || e.getValue().plus(timeout).isBefore(now));
        }
        return before == null;
    }

    /**
     * Forgets a node and the agentUrl it is bound to (an operator's decision, e.g. the host got a new address);
     * false when the name is unknown. The GPUs this coordinator held there are released from its view.
     */
    public synchronized boolean forget(String node) {
        boolean known = boundUrl.remove(node) != null;
        known |= nodes.remove(node) != null;
        held.remove(node);
        return known;
    }

    /** Registered nodes, by name. */
    public synchronized List<Node> nodes() {
        return nodes.values().stream().sorted(Comparator.comparing(Node::node)).toList();
    }

    public synchronized Optional<Node> node(String name) {
        return Optional.ofNullable(nodes.get(name));
    }

    /**
     * What the placer may use: every node's inventory with the GPUs this coordinator holds and the GPUs in
     * {@code exclude} (node -> uuids an agent refused during this placement) marked not leasable.
     */
    public synchronized List<Inventory> placeable(Map<String, Set<String>> exclude) {
        List<Inventory> out = new ArrayList<>(nodes.size());
        for (Node n : nodes.values()) {
            Set<String> off = new HashSet<>(held.getOrDefault(n.node(), Map.of()).keySet());
            off.addAll(exclude.getOrDefault(n.node(), Set.of()));
            out.add(off.isEmpty() ? n.inventory() : withLeasable(n.inventory(), off, false));
        }
        return out;
    }

    /** Holds these GPUs for a placement under way; call from the same critical section as {@link #placeable}. */
    public synchronized void hold(Placer.Candidate c) {
        Instant now = clock.instant();
        for (Placer.Part p : c.parts()) {
            Map<String, Instant> mine = held.computeIfAbsent(p.node(), k -> new LinkedHashMap<>());
            p.uuids().forEach(u -> mine.put(u, now));
        }
    }

    /** The placement did not happen: the GPUs are placeable again (as far as the last heartbeat says). */
    public synchronized void unhold(Placer.Candidate c) {
        for (Placer.Part p : c.parts()) {
            Map<String, Instant> mine = held.get(p.node());
            if (mine != null) {
                p.uuids().forEach(mine::remove);
            }
        }
    }

    /**
     * The lease on these GPUs was granted: they stay held, from now, until a heartbeat shows the lease (or the
     * node timeout passes, in case the lease ended before any heartbeat saw it).
     */
    public synchronized void granted(String node, Collection<String> uuids) {
        Map<String, Instant> mine = held.computeIfAbsent(node, k -> new LinkedHashMap<>());
        Instant now = clock.instant();
        uuids.forEach(u -> mine.put(u, now));
    }

    /**
     * The lease on these GPUs was released: they are placeable again at once if the last heartbeat showed them
     * otherwise fit (a stale heartbeat afterwards may hide them until the next one; the agent has the last word).
     */
    public synchronized void released(String node, Collection<String> uuids) {
        Map<String, Instant> mine = held.get(node);
        if (mine != null) {
            uuids.forEach(mine::remove);
        }
        Node n = nodes.get(node);
        if (n == null) {
            return;
        }
        Set<String> gone = Set.copyOf(uuids);
        List<Inventory.Gpu> gpus = n.inventory().gpus().stream().map(g -> !gone.contains(g.uuid()) ? g
                : new Inventory.Gpu(g.index(), g.uuid(), g.name(), g.pciBusId(), g.health(), g.reasons(), g.cordoned(),
                        g.memoryTotalMiB(), g.memoryFreeMiB(), null,
                        !g.migMode() && !g.cordoned() && serving(g.health()), g.migMode()))
                .toList();
        List<Inventory.Mig> mig = n.inventory().mig().stream().map(m -> !gone.contains(m.uuid()) ? m
                : new Inventory.Mig(m.uuid(), m.gpu(), m.address(), m.profile(), m.memoryMiB(), m.memoryFreeMiB(),
                        m.health(), m.cordoned(), null, !m.cordoned() && serving(m.health())))
                .toList();
        Inventory inv = n.inventory();
        nodes.put(node, new Node(n.node(), n.agentUrl(), n.lastHeartbeat(),
                new Inventory(inv.node(), inv.agentUrl(), inv.takenAt(), inv.healthy(), gpus, inv.links(), mig)));
    }

    /** Drops the nodes silent for longer than the timeout; returns them (for the log and the event log). */
    public synchronized List<Dropped> dropSilent() {
        Instant now = clock.instant();
        List<Dropped> dropped = new ArrayList<>();
        nodes.values().removeIf(n -> {
            Duration silent = Duration.between(n.lastHeartbeat(), now);
            if (silent.compareTo(timeout) > 0) {
                dropped.add(new Dropped(n.node(), n.agentUrl(), silent));
                return true;
            }
            return false;
        });
        dropped.forEach(d -> held.remove(d.node()));
        dropped.sort(Comparator.comparing(Dropped::node));
        return dropped;
    }

    public Duration timeout() {
        return timeout;
    }

    /** Every device of the inventory (GPUs and MIG devices) by UUID, to the id of the lease holding it (null: free). */
    private static Map<String, String> leaseIds(Inventory inv) {
        Map<String, String> m = new HashMap<>();
        inv.gpus().forEach(g -> m.put(g.uuid(), g.lease() == null ? null : g.lease().leaseId()));
        inv.mig().forEach(d -> m.put(d.uuid(), d.leaseId()));
        return m;
    }

    private static boolean serving(String health) {
        return "HEALTHY".equals(health) || "DEGRADED".equals(health);
    }

    private static Inventory withLeasable(Inventory inv, Set<String> uuids, boolean leasable) {
        List<Inventory.Gpu> gpus = inv.gpus().stream().map(g -> !uuids.contains(g.uuid()) ? g
                : new Inventory.Gpu(g.index(), g.uuid(), g.name(), g.pciBusId(), g.health(), g.reasons(), g.cordoned(),
                        g.memoryTotalMiB(), g.memoryFreeMiB(), g.lease(), leasable, g.migMode())).toList();
        List<Inventory.Mig> mig = inv.mig().stream().map(m -> !uuids.contains(m.uuid()) ? m
                : new Inventory.Mig(m.uuid(), m.gpu(), m.address(), m.profile(), m.memoryMiB(), m.memoryFreeMiB(),
                        m.health(), m.cordoned(), m.leaseId(), leasable)).toList();
        return new Inventory(inv.node(), inv.agentUrl(), inv.takenAt(), inv.healthy(), gpus, inv.links(), mig);
    }
}
