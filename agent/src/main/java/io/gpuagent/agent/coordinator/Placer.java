package io.gpuagent.agent.coordinator;

import io.gpuagent.agent.lease.GpuPicker;
import io.gpuagent.agent.lease.Inventory;
import io.gpuagent.agent.lease.MigPicker;
import io.gpuagent.agent.lease.MigRequest;
import io.gpuagent.agent.lease.PcieLevel;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Chooses where a job's GPUs go, from the nodes' inventories alone (no I/O, no clock): a pure function, so the
 * whole policy is testable in isolation and the coordinator can ask again after an agent refuses.
 *
 * <p>Policy, in order: only GPUs that may be leased now (leasable, HEALTHY or DEGRADED, not cordoned, not
 * leased, enough memory); one node when one can hold the job, else the fewest nodes; NVLink-connected GPUs
 * (every pair in one NVLink domain) when asked, which never spans nodes; least fragmentation, i.e. the node
 * left with the fewest leasable GPUs after the grant (best fit); then the GPUs closest in PCIe (NVLink
 * breaking ties), chosen on each node by the agent's own {@link GpuPicker}, so the coordinator asks for the
 * GPUs the node would pick itself; then node name and GPU index, so the same inputs always give the same answer.
 *
 * <p>MIG devices ({@link Ask#migProfile()}): only devices of that profile that may be leased now (the same
 * conditions; never a GPU in MIG mode whole, never a MIG device for a whole-GPU ask); one node always (a MIG job
 * that no node can hold should ask for whole GPUs); the node left with the fewest leasable devices of the profile
 * (best fit), then node name; on the node, the devices the agent's own {@link MigPicker} chooses (fewest GPUs,
 * fullest GPU first).
 */
public final class Placer {

    /**
     * What a job asks for: {@code gpus} whole GPUs, or with {@code migProfile} that many MIG devices of that
     * profile. {@code minMemoryMiB} null: any.
     */
    public record Ask(int gpus, Long minMemoryMiB, boolean sameNvlinkDomain, String migProfile) {
        public Ask {
            if (gpus < 1) {
                throw new IllegalArgumentException("gpus must be at least 1, got " + gpus);
            }
            if (migProfile != null && sameNvlinkDomain) {
                throw new IllegalArgumentException("MIG devices have no NVLink (or any peer-to-peer) path");
            }
        }

        /** Whole GPUs. */
        public Ask(int gpus, Long minMemoryMiB, boolean sameNvlinkDomain) {
            this(gpus, minMemoryMiB, sameNvlinkDomain, null);
        }

        /** MIG devices of a profile. */
        public static Ask mig(MigRequest mig, Long minMemoryMiB) {
            return new Ask(mig.count(), minMemoryMiB, false, mig.profile());
        }

        public boolean mig() {
            return migProfile != null;
        }

        /** "3 GPU(s)" or "2 MIG device(s) of profile 1g.10gb". */
        public String what() {
            return mig() ? gpus + " MIG device(s) of profile " + migProfile : gpus + " GPU(s)";
        }
    }

    /** The GPUs to lease on one node, in index order. */
    public record Part(String node, String agentUrl, List<String> uuids) {
        public Part {
            uuids = List.copyOf(uuids);
        }
    }

    /** One way to place the job: a lease per node. */
    public record Candidate(List<Part> parts) {
        public Candidate {
            parts = List.copyOf(parts);
        }

        public int gpus() {
            return parts.stream().mapToInt(p -> p.uuids().size()).sum();
        }
    }

    /** Unknown PCIe ancestors count as one level farther than SYSTEM. */
    private static final int UNKNOWN_PCIE = PcieLevel.values().length;

    private Placer() {
    }

    /** Every way to place {@code ask} on {@code nodes}, best first; empty when nothing fits now. */
    public static List<Candidate> candidates(List<Inventory> nodes, Ask ask) {
        List<Inventory> ordered = nodes.stream().sorted(Comparator.comparing(Inventory::node)).toList();
        if (ask.mig()) {
            return migCandidates(ordered, ask);
        }
        List<Choice> single = new ArrayList<>();
        for (Inventory node : ordered) {
            List<Inventory.Gpu> free = eligible(node, ask);
            if (free.size() < ask.gpus()) {
                continue;
            }
            Pick pick = pick(node, free, ask.gpus(), ask.sameNvlinkDomain());
            if (pick != null) {
                single.add(new Choice(new Candidate(List.of(part(node, pick))), free.size() - ask.gpus(), pick.cost));
            }
        }
        if (!single.isEmpty()) {
            return single.stream()
                    .sorted(Comparator.comparingInt(Choice::leftover).thenComparingInt(Choice::cost))
                    .map(Choice::candidate).toList();   // stable: node name breaks the remaining ties
        }
        if (ask.sameNvlinkDomain() && ask.gpus() > 1) {
            return List.of();   // an NVLink domain lives inside one node
        }
        return acrossNodes(ordered, ask);
    }

    /**
     * Fewest nodes: the k-1 nodes with the most leasable GPUs give all of theirs, and the rest goes to the node
     * that fits it best; each other node that could take the rest is a further candidate.
     */
    private static List<Candidate> acrossNodes(List<Inventory> ordered, Ask ask) {
        Map<Inventory, List<Inventory.Gpu>> free = new HashMap<>();
        for (Inventory node : ordered) {
            List<Inventory.Gpu> gpus = eligible(node, ask);
            if (!gpus.isEmpty()) {
                free.put(node, gpus);
            }
        }
        List<Inventory> biggestFirst = free.keySet().stream()
                .sorted(Comparator.<Inventory>comparingInt(n -> free.get(n).size()).reversed()
                        .thenComparing(Inventory::node))
                .toList();
        int total = biggestFirst.stream().mapToInt(n -> free.get(n).size()).sum();
        if (total < ask.gpus()) {
            return List.of();
        }
        List<Part> whole = new ArrayList<>();
        int rest = ask.gpus();
        int k = 0;
        while (free.get(biggestFirst.get(k)).size() < rest) {
            Inventory node = biggestFirst.get(k);
            whole.add(part(node, new Pick(indexOrder(free.get(node)), 0)));
            rest -= free.get(node).size();
            k++;
        }
        int remainder = rest;
        List<Choice> lasts = new ArrayList<>();
        for (Inventory node : biggestFirst.subList(k, biggestFirst.size())) {
            List<Inventory.Gpu> gpus = free.get(node);
            if (gpus.size() >= remainder) {
                Pick pick = pick(node, gpus, remainder, false);
                List<Part> parts = new ArrayList<>(whole);
                parts.add(part(node, pick));
                lasts.add(new Choice(new Candidate(parts), gpus.size() - remainder, pick.cost));
            }
        }
        return lasts.stream()
                .sorted(Comparator.comparingInt(Choice::leftover).thenComparingInt(Choice::cost)
                        .thenComparing(c -> c.candidate().parts().getLast().node()))
                .map(Choice::candidate).toList();
    }

    /** One node per candidate, best fit first: the fewest leasable devices of the profile left over. */
    private static List<Candidate> migCandidates(List<Inventory> ordered, Ask ask) {
        List<Choice> fits = new ArrayList<>();
        for (Inventory node : ordered) {
            List<Inventory.Mig> free = eligibleMig(node, ask);
            if (free.size() < ask.gpus()) {
                continue;
            }
            Map<Integer, Integer> leasableOnGpu = new HashMap<>();
            node.mig().stream().filter(Placer::placeable).forEach(m -> leasableOnGpu.merge(m.gpu(), 1, Integer::sum));
            // The agent lists a GPU's MIG devices in GPU instance, compute instance order: the position keeps it.
            List<MigPicker.Candidate> candidates = new ArrayList<>(free.size());
            for (Inventory.Mig m : free) {
                candidates.add(new MigPicker.Candidate(m.uuid(), m.gpu(), node.mig().indexOf(m), 0));
            }
            List<MigPicker.Candidate> chosen = new MigPicker(candidates, leasableOnGpu).pick(ask.gpus()).orElseThrow();
            fits.add(new Choice(new Candidate(List.of(new Part(node.node(), node.agentUrl(),
                    chosen.stream().map(MigPicker.Candidate::uuid).toList()))), free.size() - ask.gpus(), 0));
        }
        return fits.stream().sorted(Comparator.comparingInt(Choice::leftover)).map(Choice::candidate).toList();
    }

    /** The MIG devices of {@code node} that a lease for {@code ask} may take now. */
    public static List<Inventory.Mig> eligibleMig(Inventory node, Ask ask) {
        return node.mig().stream().filter(m -> m.profile().equals(ask.migProfile()) && placeable(m)
                && enoughMemory(m, ask.minMemoryMiB())).toList();
    }

    /** The agent says it is leasable, and nothing in the same inventory contradicts that. */
    static boolean placeable(Inventory.Mig m) {
        return m.leasable() && m.leaseId() == null && !m.cordoned() && serving(m.health());
    }

    private static boolean enoughMemory(Inventory.Mig m, Long minMiB) {
        return minMiB == null || (m.memoryFreeMiB() != null ? m.memoryFreeMiB() : m.memoryMiB()) >= minMiB;
    }

    private static boolean serving(String health) {
        return "HEALTHY".equals(health) || "DEGRADED".equals(health);
    }

    /** The GPUs of {@code node} that a lease for {@code ask} may take now, in index order. */
    public static List<Inventory.Gpu> eligible(Inventory node, Ask ask) {
        return node.gpus().stream().filter(g -> placeable(g) && enoughMemory(g, ask.minMemoryMiB()))
                .sorted(Comparator.comparingInt(Inventory.Gpu::index)).toList();
    }

    /** The agent says it is leasable, and nothing in the same inventory contradicts that. */
    static boolean placeable(Inventory.Gpu g) {
        return g.leasable() && g.lease() == null && !g.cordoned() && !g.migMode() && serving(g.health());
    }

    /** Free memory when the agent read it (a free GPU's is nearly all of it), else the total. */
    private static boolean enoughMemory(Inventory.Gpu g, Long minMiB) {
        if (minMiB == null) {
            return true;
        }
        Long have = g.memoryFreeMiB() != null ? g.memoryFreeMiB() : g.memoryTotalMiB();
        return have != null && have >= minMiB;
    }

    /**
     * {@code n} GPUs of {@code free} closest to each other, as the agent's own {@link GpuPicker} chooses them
     * for a lease; its cost is the sum of the pairwise distances. With {@code nvlink}, every chosen pair must
     * share an NVLink domain; null when no such set of {@code n} exists.
     */
    private static Pick pick(Inventory node, List<Inventory.Gpu> free, int n, boolean nvlink) {
        Map<String, Inventory.Link> links = new HashMap<>();
        for (Inventory.Link l : node.links()) {
            links.put(key(l.a(), l.b()), l);
        }
        Map<Integer, Inventory.Gpu> byIndex = new HashMap<>();
        free.forEach(g -> byIndex.put(g.index(), g));
        GpuPicker.Topology topology = new GpuPicker.Topology() {
            @Override
            public int pcieDistance(int a, int b) {
                return distance(links, byIndex.get(a), byIndex.get(b));
            }

            @Override
            public boolean nvlink(int a, int b) {
                Inventory.Link l = links.get(key(byIndex.get(a).uuid(), byIndex.get(b).uuid()));
                return l != null && l.nvlink();
            }
        };
        Optional<List<Integer>> chosen = new GpuPicker(List.copyOf(byIndex.keySet()), topology).pick(n, nvlink);
        if (chosen.isEmpty()) {
            return null;
        }
        List<Integer> set = chosen.get();
        int cost = 0;
        for (int i = 0; i < set.size(); i++) {
            for (int j = i + 1; j < set.size(); j++) {
                cost += topology.pcieDistance(set.get(i), set.get(j));
            }
        }
        return new Pick(set.stream().map(byIndex::get).toList(), cost);
    }

    /** PCIe distance first, NVLink second: two GPUs under one switch with NVLink are the nearest pair. */
    private static int distance(Map<String, Inventory.Link> links, Inventory.Gpu a, Inventory.Gpu b) {
        Inventory.Link l = links.get(key(a.uuid(), b.uuid()));
        if (l == null) {
            return 2 * UNKNOWN_PCIE + 1;
        }
        int level = PcieLevel.named(l.pcieAncestor()).map(Enum::ordinal).orElse(UNKNOWN_PCIE);
        return 2 * level + (l.nvlink() ? 0 : 1);
    }

    private static String key(String a, String b) {
        return a.compareTo(b) < 0 ? a + '\n' + b : b + '\n' + a;
    }

    private static List<Inventory.Gpu> indexOrder(List<Inventory.Gpu> gpus) {
        return gpus.stream().sorted(Comparator.comparingInt(Inventory.Gpu::index)).toList();
    }

    private static Part part(Inventory node, Pick pick) {
        return new Part(node.node(), node.agentUrl(), pick.gpus.stream().map(Inventory.Gpu::uuid).toList());
    }

    /**
     * Why nothing fits, for the 409: per node, how many GPUs could be leased and why the others cannot.
     * E.g. {@code dgx-a: 1 of 4 leasable (2 leased, 1 UNHEALTHY)}.
     */
    public static String describe(List<Inventory> nodes, Ask ask) {
        if (nodes.isEmpty()) {
            return "no node is registered (agents register by heartbeat: set gpu-agent.coordinator.url on them)";
        }
        if (ask.mig()) {
            return nodes.stream().sorted(Comparator.comparing(Inventory::node)).map(n -> describeMig(n, ask))
                    .collect(Collectors.joining("; "));
        }
        return nodes.stream().sorted(Comparator.comparing(Inventory::node)).map(n -> {
            Map<String, Integer> why = new TreeMap<>();
            int ok = 0;
            for (Inventory.Gpu g : n.gpus()) {
                String reason;
                if (!placeable(g)) {
                    reason = g.migMode() ? "in MIG mode" : g.lease() != null ? "leased" : g.cordoned() ? "cordoned"
                            : !"HEALTHY".equals(g.health()) && !"DEGRADED".equals(g.health()) ? g.health()
                            : "not leasable";
                } else if (!enoughMemory(g, ask.minMemoryMiB())) {
                    reason = "under " + ask.minMemoryMiB() + " MiB free";
                } else {
                    ok++;
                    continue;
                }
                why.merge(reason, 1, Integer::sum);
            }
            String detail = why.entrySet().stream().map(e -> e.getValue() + " " + e.getKey())
                    .collect(Collectors.joining(", "));
            return n.node() + ": " + ok + " of " + n.gpus().size() + " leasable" + (detail.isEmpty() ? "" : " (" + detail + ")");
        }).collect(Collectors.joining("; "));
    }

    /** E.g. {@code dgx-a: 2 of 3 1g.10gb MIG devices leasable (1 UNHEALTHY)}, or the profiles it has instead. */
    private static String describeMig(Inventory n, Ask ask) {
        List<Inventory.Mig> ofProfile = n.mig().stream().filter(m -> m.profile().equals(ask.migProfile())).toList();
        if (ofProfile.isEmpty()) {
            Map<String, Integer> layout = new TreeMap<>();
            n.mig().forEach(m -> layout.merge(m.profile(), 1, Integer::sum));
            return n.node() + ": no " + ask.migProfile() + " MIG device (" + (layout.isEmpty() ? "no MIG devices"
                    : layout.entrySet().stream().map(e -> e.getKey() + " x" + e.getValue())
                    .collect(Collectors.joining(", "))) + ")";
        }
        Map<String, Integer> why = new TreeMap<>();
        int ok = 0;
        for (Inventory.Mig m : ofProfile) {
            String reason;
            if (!placeable(m)) {
                reason = m.leaseId() != null ? "leased" : m.cordoned() ? "cordoned"
                        : !serving(m.health()) ? m.health() : "not leasable";
            } else if (!enoughMemory(m, ask.minMemoryMiB())) {
                reason = "under " + ask.minMemoryMiB() + " MiB free";
            } else {
                ok++;
                continue;
            }
            why.merge(reason, 1, Integer::sum);
        }
        String detail = why.entrySet().stream().map(e -> e.getValue() + " " + e.getKey()).collect(Collectors.joining(", "));
        return n.node() + ": " + ok + " of " + ofProfile.size() + " " + ask.migProfile() + " MIG devices leasable"
                + (detail.isEmpty() ? "" : " (" + detail + ")");
    }

    private record Pick(List<Inventory.Gpu> gpus, int cost) {
    }

    private record Choice(Candidate candidate, int leftover, int cost) {
    }
}
