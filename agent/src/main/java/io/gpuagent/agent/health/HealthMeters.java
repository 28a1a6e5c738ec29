package io.gpuagent.agent.health;

import io.gpuagent.agent.health.detect.HealthState;
import io.gpuagent.agent.health.detect.RepairAction;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * The health model's {@code gpu_agent_*} series on the agent's registry: {@code gpu_agent_gpu_health{state}}
 * (a state set), {@code gpu_agent_recovery_action_recommended{action}} and {@code gpu_agent_xid_errors_total{xid}},
 * all with {@code gpu} and {@code UUID}, and {@code gpu_agent_mig_device_health{state}} per MIG device (with its
 * GPU's {@code gpu} and {@code UUID}, dcgm-exporter's {@code GPU_I_ID} and {@code GPU_I_PROFILE}, and
 * {@code mig_uuid}). Gauges read the latest verdicts when scraped. A GPU or MIG device that vanishes loses its
 * series; a LOST GPU keeps them (state lost). Called under the health model's lock.
 */
final class HealthMeters {
    static final String GPU_HEALTH = "gpu_agent.gpu.health";
    static final String ACTION_RECOMMENDED = "gpu_agent.recovery.action.recommended";
    static final String XID_ERRORS = "gpu_agent.xid.errors";
    static final String MIG_DEVICE_HEALTH = "gpu_agent.mig.device.health";

    private final MeterRegistry registry;
    private final Function<String, GpuHealth> byUuid;
    private final Function<String, MigHealth> migByUuid;
    private final Map<String, Set<Meter>> meters = new HashMap<>();   // UUID (GPU- or MIG-) -> its meters
    private final Map<String, Integer> indexOf = new HashMap<>();     // UUID -> index its gauges carry

    HealthMeters(MeterRegistry registry, Function<String, GpuHealth> byUuid, Function<String, MigHealth> migByUuid) {
        this.registry = registry;
        this.byUuid = byUuid;
        this.migByUuid = migByUuid;
    }

    /**
     * Registers the gauges of GPUs and MIG devices seen for the first time (or under a new index); removes those
     * of vanished GPUs ({@code vanished}) and MIG devices ({@code vanishedMig}).
     */
    void sync(List<GpuHealth> gpus, List<String> vanished, List<String> vanishedMig) {
        vanished.forEach(this::remove);
        vanishedMig.forEach(this::remove);
        for (GpuHealth g : gpus) {
            g.migDevices().forEach(this::syncMig);
            if (g.uuid().isEmpty()) {
                continue;
            }
            Integer index = indexOf.get(g.uuid());
            if (index != null && index == g.index()) {
                continue;
            }
            if (index != null) {
                remove(g.uuid());   // same GPU, new index (another GPU was removed): new labels
            }
            indexOf.put(g.uuid(), g.index());
            String gpu = Integer.toString(g.index());
            String uuid = g.uuid();
            for (HealthState state : HealthState.values()) {
                add(uuid, Gauge.builder(GPU_HEALTH, this, m -> m.isState(uuid, state))
                        .description("1 for the GPU's current health state (healthy, degraded, unhealthy, lost, initializing), 0 for the others.")
                        .tag("gpu", gpu).tag("UUID", uuid).tag("state", state.name().toLowerCase(Locale.ROOT))
                        .strongReference(true).register(registry));
            }
            for (RepairAction action : RepairAction.values()) {
                add(uuid, Gauge.builder(ACTION_RECOMMENDED, this, m -> m.isRecommended(uuid, action))
                        .description("1 for each repair action recommended for the GPU (ours and the driver's own hint); none when there is nothing to do.")
                        .tag("gpu", gpu).tag("UUID", uuid).tag("action", action.label())
                        .strongReference(true).register(registry));
            }
        }
    }

    private void syncMig(MigHealth m) {
        Integer index = indexOf.get(m.uuid());
        if (index != null && index == m.gpu()) {
            return;
        }
        if (index != null) {
            remove(m.uuid());
        }
        indexOf.put(m.uuid(), m.gpu());
        String uuid = m.uuid();
        for (HealthState state : HealthState.values()) {
            add(uuid, Gauge.builder(MIG_DEVICE_HEALTH, this, h -> h.isMigState(uuid, state))
                    .description("1 for the MIG device's current health state (the worse of its own and its GPU's: "
                            + "healthy, degraded, unhealthy, lost, initializing), 0 for the others.")
                    .tag("gpu", Integer.toString(m.gpu())).tag("UUID", m.parentUuid())
                    .tag("GPU_I_ID", Integer.toString(m.gpuInstanceId())).tag("GPU_I_PROFILE", m.profile())
                    .tag("mig_uuid", uuid).tag("state", state.name().toLowerCase(Locale.ROOT))
                    .strongReference(true).register(registry));
        }
    }

    /** Counts one XID; every occurrence, repeats included. */
    void xid(int index, String uuid, int xid) {
        Counter c = Counter.builder(XID_ERRORS).description("XID errors the driver reported, by code; repeats are counted.")
                .tag("gpu", Integer.toString(index)).tag("UUID", uuid).tag("xid", Integer.toString(xid)).register(registry);
        add(uuid, c);
        c.increment();
    }

    private void add(String uuid, Meter meter) {
        meters.computeIfAbsent(uuid, k -> new HashSet<>()).add(meter);
    }

    private void remove(String uuid) {
        indexOf.remove(uuid);
        Set<Meter> gone = meters.remove(uuid);
        if (gone != null) {
            gone.forEach(registry::remove);
        }
    }

    private double isState(String uuid, HealthState state) {
        GpuHealth g = byUuid.apply(uuid);
        return g == null ? Double.NaN : g.state() == state ? 1 : 0;
    }

    private double isMigState(String uuid, HealthState state) {
        MigHealth m = migByUuid.apply(uuid);
        return m == null ? Double.NaN : m.state() == state ? 1 : 0;
    }

    private double isRecommended(String uuid, RepairAction action) {
        GpuHealth g = byUuid.apply(uuid);
        if (g == null) {
            return Double.NaN;
        }
        return g.actions().isEmpty() ? (action == RepairAction.NONE ? 1 : 0) : (g.actions().contains(action) ? 1 : 0);
    }
}
