package io.gpuagent.agent.sampler;

import io.gpuagent.exporter.GpuDecorator;
import io.gpuagent.exporter.GpuInfo;
import jakarta.inject.Singleton;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The last XID per GPU, for dcgm-exporter's {@code DCGM_FI_DEV_XID_ERRORS{err_code}} (a last-value gauge,
 * kept for compatibility; {@code gpu_agent_xid_errors_total} counts them). The GPU writer decorates its
 * output with it; it depends on nothing, so the sampler can use it without a cycle through the health model.
 */
@Singleton
public class XidLedger implements GpuDecorator {

    private final Map<String, Integer> last = new ConcurrentHashMap<>();
    private final AtomicLong version = new AtomicLong();

    public void record(String uuid, int xid) {
        last.put(uuid, xid);
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
        Integer xid = last.get(gpu.uuid());
        return xid == null ? OptionalInt.empty() : OptionalInt.of(xid);
    }
}
