package io.gpuagent.exporter;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * How the GPUs of a {@link Snapshot} reach each other, read once per set of GPUs (a new NVML instance, a
 * GPU added, lost or back, a GPU's active NVLink count changed): one {@link Pair} per unordered pair, a
 * before b by index.
 *
 * @param pairs every pair of the GPUs that were readable when it was read
 */
public record Topology(List<Pair> pairs) {

    /** Nothing read (no GPUs, NVML down, or the GPUs not all readable yet). */
    public static final Topology EMPTY = new Topology(List.of());

    /**
     * Two GPUs.
     *
     * @param pcieLevel   {@code nvmlDeviceGetTopologyCommonAncestor}: 0 INTERNAL, 10 SINGLE, 20 MULTIPLE,
     *                    30 HOSTBRIDGE, 40 NODE, 50 SYSTEM; -1 when the driver did not say
     * @param nvlink      NVLink peer-to-peer works between them ({@code nvmlDeviceGetP2PStatus} NVLINK is OK;
     *                    where that call fails, whether {@code nvlinkCount} is above 0)
     * @param nvlinkCount active links of {@code a} that end at {@code b} or at an NVSwitch {@code b} also
     *                    has an active link to
     */
    public record Pair(String a, String b, int pcieLevel, boolean nvlink, int nvlinkCount) {
    }

    public Topology {
        pairs = List.copyOf(pairs);
    }

    /** The pair of these two GPUs (either order), if both were read. */
    public Optional<Pair> pair(String uuidA, String uuidB) {
        for (Pair p : pairs) {
            if ((p.a().equals(uuidA) && p.b().equals(uuidB)) || (p.a().equals(uuidB) && p.b().equals(uuidA))) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /** Pairs by "a b" UUID key, both orders, for callers that look up many. */
    public Map<String, Pair> byUuids() {
        Map<String, Pair> out = new HashMap<>(pairs.size() * 2);
        for (Pair p : pairs) {
            out.put(p.a() + " " + p.b(), p);
            out.put(p.b() + " " + p.a(), p);
        }
        return out;
    }
}
