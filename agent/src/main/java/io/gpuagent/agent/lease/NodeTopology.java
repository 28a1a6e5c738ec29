package io.gpuagent.agent.lease;

import io.gpuagent.exporter.Snapshot;
import io.gpuagent.exporter.Topology;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * How the node's GPUs reach each other, as the inventory shows it and the picker weighs it: one
 * {@link Inventory.Link} per unordered pair of the given GPUs (a before b by index).
 */
final class NodeTopology implements GpuPicker.Topology {

    private final List<Inventory.Link> links;
    private final Map<Long, Inventory.Link> byIndexPair = new HashMap<>();

    private NodeTopology(List<Inventory.Link> links, Map<String, Integer> indexOf) {
        this.links = List.copyOf(links);
        for (Inventory.Link l : links) {
            byIndexPair.put(key(indexOf.get(l.a()), indexOf.get(l.b())), l);
        }
    }

    /**
     * The topology of {@code gpus} as far as the snapshot knows it; a pair it does not know (a GPU that was
     * not readable when the topology was read) has no NVLink and an unknown ancestor.
     */
    static NodeTopology of(Snapshot snapshot, List<GpuStanding> gpus) {
        Map<String, Integer> indexOf = new HashMap<>();
        gpus.forEach(g -> indexOf.put(g.uuid(), g.index()));
        Map<String, Topology.Pair> known = snapshot.topology().byUuids();
        List<Inventory.Link> links = new ArrayList<>();
        for (int i = 0; i < gpus.size(); i++) {
            for (int j = i + 1; j < gpus.size(); j++) {
                String a = gpus.get(i).uuid();
                String b = gpus.get(j).uuid();
                Topology.Pair p = known.get(a + " " + b);
                links.add(p == null ? new Inventory.Link(a, b, false, 0, null)
                        : new Inventory.Link(a, b, p.nvlink(), p.nvlinkCount(), PcieLevel.ofNvml(p.pcieLevel()).map(Enum::name).orElse(null)));
            }
        }
        return new NodeTopology(links, indexOf);
    }

    List<Inventory.Link> links() {
        return links;
    }

    @Override
    public int pcieDistance(int a, int b) {
        Inventory.Link l = byIndexPair.get(key(a, b));
        // Unknown counts as the farthest level NVML names.
        return (l == null ? Optional.<PcieLevel>empty() : PcieLevel.named(l.pcieAncestor())).orElse(PcieLevel.SYSTEM)
                .ordinal();
    }

    @Override
    public boolean nvlink(int a, int b) {
        Inventory.Link l = byIndexPair.get(key(a, b));
        return l != null && l.nvlink();
    }

    private static long key(int a, int b) {
        return ((long) Math.min(a, b) << 32) | Math.max(a, b);
    }
}
