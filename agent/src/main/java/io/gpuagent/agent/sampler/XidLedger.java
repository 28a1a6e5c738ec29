package io.gpuagent.agent.sampler;

import io.gpuagent.exporter.GpuDecorator;
import io.gpuagent.exporter.GpuInfo;
import io.gpuagent.exporter.MigInstance;
import jakarta.inject.Singleton;
import java.util.Collections;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.jboss.logging.Logger;

/**
 * The last XID per GPU and per MIG device, for dcgm-exporter's {@code DCGM_FI_DEV_XID_ERRORS{err_code}} (a
 * last-value gauge, kept for compatibility; {@code gpu_agent_xid_errors_total} counts them), and the count of each
 * XID per GPU since start, for dcgm-exporter's {@code DCGM_EXP_XID_ERRORS_TOTAL{xid}}. The GPU writer decorates its
 * output with both; it depends on nothing, so the sampler can use it without a cycle through the health model.
 *
 * <p>The last XID is recorded under the UUID the XID names: the GPU's {@code GPU-} UUID for a GPU-wide XID, a
 * {@code MIG-} UUID for one that named an instance. A MIG device's series shows whichever of its own and its GPU's
 * came last. The counts are the GPU's, whichever device an XID named.
 */
@Singleton
public class XidLedger implements GpuDecorator {

    private static final Logger LOG = Logger.getLogger(XidLedger.class);
    /**
     * Distinct XIDs counted per GPU. NVIDIA's XID catalogue has under 200 codes; a code the driver sends beyond
     * this many distinct ones on one GPU is still counted by {@code gpu_agent_xid_errors_total}, not here.
     */
    static final int MAX_XIDS_PER_GPU = 256;

    /** One XID and the order it was recorded in. */
    private record Last(int xid, long order) {
    }

    private final Map<String, Last> last = new ConcurrentHashMap<>();
    private final AtomicLong order = new AtomicLong();
    /** Per GPU UUID: an unmodifiable map, replaced on each XID (XIDs are rare; renders read it without copying). */
    private final Map<String, SortedMap<Integer, Long>> counts = new ConcurrentHashMap<>();
    private final AtomicLong version = new AtomicLong();
    /** GPUs whose cap was reported (once each). */
    private final Set<String> capReported = ConcurrentHashMap.newKeySet();

    /** One XID seen on the whole GPU {@code uuid}. */
    public void record(String uuid, int xid) {
        record(uuid, uuid, xid);
    }

    /**
     * One XID on GPU {@code gpuUuid} that named {@code deviceUuid} (the GPU's own UUID, or a {@code MIG-} UUID):
     * the device's last XID, and one more of {@code xid} on the GPU (0 is no error: not counted).
     */
    public void record(String gpuUuid, String deviceUuid, int xid) {
        last.put(deviceUuid, new Last(xid, order.incrementAndGet()));
        if (xid != 0) {
            counts.compute(gpuUuid, (u, before) -> counted(u, before, xid));
        }
        version.incrementAndGet();   // after the puts: a render that saw the old version re-renders later
    }

    private SortedMap<Integer, Long> counted(String uuid, SortedMap<Integer, Long> before, int xid) {
        if (before != null && !before.containsKey(xid) && before.size() >= MAX_XIDS_PER_GPU) {
            if (capReported.add(uuid)) {
                LOG.warnf("GPU %s: XID %d and further new XIDs are not counted in DCGM_EXP_XID_ERRORS_TOTAL, which "
                        + "keeps at most %d distinct XIDs per GPU (gpu_agent_xid_errors_total counts them)", uuid, xid,
                        MAX_XIDS_PER_GPU);
            }
            return before;
        }
        TreeMap<Integer, Long> after = before == null ? new TreeMap<>() : new TreeMap<>(before);
        after.merge(xid, 1L, Long::sum);
        return Collections.unmodifiableSortedMap(after);
    }

    /**
     * Forgets the GPU's last XID ({@code DCGM_FI_DEV_XID_ERRORS} shows 0 again). The counts stay: a counter only
     * goes back to 0 when the agent restarts.
     */
    public void forget(String uuid) {
        if (last.remove(uuid) != null) {
            version.incrementAndGet();
        }
    }

    @Override
    public long version() {
        return version.get();
    }

    @Override
    public OptionalInt lastXid(GpuInfo gpu) {
        Last x = last.get(gpu.uuid());
        return x == null ? OptionalInt.empty() : OptionalInt.of(x.xid);
    }

    @Override
    public OptionalInt lastXid(GpuInfo gpu, MigInstance mig) {
        Last own = last.get(mig.uuid());
        Last whole = last.get(gpu.uuid());
        Last later = own == null ? whole : whole == null || own.order > whole.order ? own : whole;
        return later == null ? OptionalInt.empty() : OptionalInt.of(later.xid);
    }

    @Override
    public SortedMap<Integer, Long> xidCounts(GpuInfo gpu) {
        SortedMap<Integer, Long> c = counts.get(gpu.uuid());
        return c == null ? Collections.emptySortedMap() : c;
    }
}
