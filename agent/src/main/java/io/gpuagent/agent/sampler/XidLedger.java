package io.gpuagent.agent.sampler;

import io.gpuagent.exporter.GpuDecorator;
import io.gpuagent.exporter.GpuInfo;
import io.gpuagent.exporter.MigInstance;
import jakarta.inject.Singleton;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The last XID per GPU and per MIG device, for dcgm-exporter's {@code DCGM_FI_DEV_XID_ERRORS{err_code}} (a
 * last-value gauge, kept for compatibility; {@code gpu_agent_xid_errors_total} counts them). The GPU writer
 * decorates its output with it; it depends on nothing, so the sampler can use it without a cycle through the
 * health model.
 *
 * <p>Recorded under the UUID the XID names: the GPU's {@code GPU-} UUID for a GPU-wide XID, a {@code MIG-} UUID
 * for one that named an instance. A MIG device's series shows whichever of its own and its GPU's came last.
 */
@Singleton
public class XidLedger implements GpuDecorator {

    /** One XID and the order it was recorded in. */
    private record Last(int xid, long order) {
    }

    private final Map<String, Last> last = new ConcurrentHashMap<>();
    private final AtomicLong order = new AtomicLong();
    private final AtomicLong version = new AtomicLong();

    /** {@code uuid}: a GPU's ({@code GPU-...}) or a MIG device's ({@code MIG-...}). */
    public void record(String uuid, int xid) {
        last.put(uuid, new Last(xid, order.incrementAndGet()));
        version.incrementAndGet();   // after the put: a render that saw the old version re-renders later
    }

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
}
