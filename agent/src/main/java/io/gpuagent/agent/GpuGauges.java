package io.gpuagent.agent;

import io.gpuagent.agent.sampler.SamplerService;
import io.gpuagent.exporter.GpuSample;
import io.gpuagent.exporter.Snapshot;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * One gauge per GPU, labelled {@code gpu} and {@code UUID} like the other per-GPU {@code gpu_agent_*} series,
 * whose set follows the sampler's snapshots: a GPU gets its gauge once {@code applies} holds for it, keeps it
 * while it is in the snapshots (a LOST GPU stays), and loses it when it vanishes or comes back under another
 * index. The value is read when scraped. Fed from the sampler thread ({@link SamplerService#onSnapshot}).
 */
public final class GpuGauges implements Consumer<Snapshot> {

    /** The value of one GPU's gauge, read at every scrape: it should not allocate (see Snapshot#sample). */
    @FunctionalInterface
    public interface Value {
        double of(int index, String uuid);
    }

    private final MeterRegistry registry;
    private final String name;
    private final String description;
    private final Predicate<GpuSample> applies;
    private final Value value;
    private final Map<String, Gauge> gauges = new HashMap<>();   // "index/UUID" -> its gauge

    public GpuGauges(MeterRegistry registry, String name, String description, Predicate<GpuSample> applies,
                     Value value) {
        this.registry = registry;
        this.name = name;
        this.description = description;
        this.applies = applies;
        this.value = value;
    }

    @Override
    public synchronized void accept(Snapshot snapshot) {
        Set<String> seen = new HashSet<>();
        for (GpuSample g : snapshot.gpus()) {
            if (!g.info().known()) {
                continue;
            }
            String key = g.index() + "/" + g.uuid();
            seen.add(key);
            if (!gauges.containsKey(key) && applies.test(g)) {
                int index = g.index();
                String uuid = g.uuid();
                gauges.put(key, Gauge.builder(name, this, m -> m.value.of(index, uuid)).description(description)
                        .tag("gpu", Integer.toString(index)).tag("UUID", uuid).strongReference(true).register(registry));
            }
        }
        gauges.entrySet().removeIf(e -> {
            if (seen.contains(e.getKey())) {
                return false;
            }
            registry.remove(e.getValue());
            return true;
        });
    }
}
