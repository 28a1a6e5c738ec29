package io.gpuagent.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.gpuagent.exporter.GpuInfo;
import io.gpuagent.exporter.GpuSample;
import io.gpuagent.exporter.Reading;
import io.gpuagent.exporter.Snapshot;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Instant;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The per-GPU gauge set follows the snapshots: first sight, a GPU that vanishes, one that comes back under another index. */
class GpuGaugesTest {

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final Map<String, Double> values = new TreeMap<>(Map.of("GPU-a", 1.0, "GPU-b", 0.0, "GPU-c", 0.0));
    private final GpuGauges gauges = new GpuGauges(registry, "test.gauge", "test", g -> g.has(Reading.NVLINK_LINKS),
            (index, uuid) -> values.get(uuid));

    @Test
    void oneGaugePerGpuThatAppliesReadWhenScrapedAndGoneWithTheGpu() {
        gauges.accept(snapshot(gpu(0, "GPU-a", true), gpu(1, "GPU-b", true), gpu(2, "GPU-c", false)));
        assertEquals(Map.of("0/GPU-a", 1.0, "1/GPU-b", 0.0), series(), "GPU-c has no reading yet");

        values.put("GPU-b", 1.0);
        gauges.accept(snapshot(gpu(0, "GPU-a", true), gpu(1, "GPU-b", true), gpu(2, "GPU-c", true)));
        assertEquals(Map.of("0/GPU-a", 1.0, "1/GPU-b", 1.0, "2/GPU-c", 0.0), series(), "value read at scrape; GPU-c now applies");

        gauges.accept(snapshot(gpu(0, "GPU-a", true), gpu(1, "GPU-c", true)));
        assertEquals(Map.of("0/GPU-a", 1.0, "1/GPU-c", 0.0), series(), "GPU-b vanished, GPU-c renumbered");
    }

    private Map<String, Double> series() {
        Map<String, Double> out = new TreeMap<>();
        for (Gauge g : registry.find("test.gauge").gauges()) {
            out.put(g.getId().getTag("gpu") + "/" + g.getId().getTag("UUID"), g.value());
        }
        return out;
    }

    private static GpuSample gpu(int index, String uuid, boolean hasLinks) {
        GpuSample.Builder b = GpuSample.builder(new GpuInfo(index, uuid, "NVIDIA H100 80GB HBM3", "", index, "", "", null));
        return (hasLinks ? b.set(Reading.NVLINK_LINKS, 18) : b).build();
    }

    private static Snapshot snapshot(GpuSample... gpus) {
        return new Snapshot(1, Instant.EPOCH, true, null, "550.54.15", gpus.length, Arrays.asList(gpus));
    }
}
