package io.gpuagent.agent.lease;

import io.gpuagent.exporter.Snapshot;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * How the node's GPUs reach each other, as the inventory shows it and the picker weighs it: one
 * {@link Inventory.Link} per unordered pair of the given GPUs (a before b by index).
 */
final class NodeTopology implements GpuPicker.Topology {

    /** NVML's {@code nvmlGpuTopologyLevel_t} names, nearest first; the picker's distance is the position. */
    static final List<String> LEVELS = List.of("INTERNAL", "SINGLE", "MULTIPLE", "HOSTBRIDGE", "NODE", "SYSTEM");

    private final List<Inventory.Link> links;
    private final Map<Long, Inventory.Link> byIndexPair = new HashMap<>();

    private NodeTopology(List<Inventory.Link> links, Map<String, Integer> indexOf) {
        this.links = List.copyOf(links);
        for (Inventory.Link l : links) {
            byIndexPair.put(key(indexOf.get(l.a()), indexOf.get(l.b())), l);
        }
    }

    /** The topology of {@code gpus} as far as the snapshot knows it. */
    static NodeTopology of(Snapshot snapshot, List<GpuStanding> gpus) {
        Map<String, Integer> indexOf = new HashMap<>();
        gpus.forEach(g -> indexOf.put(g.uuid(), g.index()));
        List<Inventory.Link> links = new ArrayList<>();
        for (int i = 0; i < gpus.size(); i++) {
            for (int j = i + 1; j < gpus.size(); j++) {
                links.add(new Inventory.Link(gpus.get(i).uuid(), gpus.get(j).uuid(), false, 0, null));
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
        int level = l == null || l.pcieAncestor() == null ? -1 : LEVELS.indexOf(l.pcieAncestor());
        return level < 0 ? LEVELS.size() - 1 : level;
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
