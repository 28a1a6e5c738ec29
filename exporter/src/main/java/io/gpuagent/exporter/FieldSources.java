package io.gpuagent.exporter;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * {@code gpu_agent_field_source{field,source}}: where each exported GPU metric's values come from, 1 for the
 * source serving it now and 0 for the others it could come from. Sources: {@code nvml} (an NVML call or field),
 * {@code gpm} (NVML's GPM), {@code dcgm}. Bounded: at most two series per metric of the counters file, registered
 * once; the value is worked out from the latest snapshot when scraped (a metric any GPU gets from DCGM is
 * {@code dcgm}).
 */
public final class FieldSources {
    public static final String NAME = "gpu_agent.field.source";

    private final Supplier<Snapshot> latest;

    /**
     * @param metrics what the GPU family renders ({@link GpuMetricsWriter#metrics()})
     * @param dcgmOn  whether DCGM may serve some of them ({@code gpu-agent.dcgm.mode} not off)
     */
    public FieldSources(MeterRegistry registry, List<MetricDef> metrics, boolean dcgmOn, Supplier<Snapshot> latest) {
        this.latest = Objects.requireNonNull(latest, "latest");
        for (MetricDef m : metrics) {
            for (String source : candidates(m, dcgmOn)) {
                Gauge.builder(NAME, this, f -> f.serves(m, source) ? 1 : 0)
                        .description("1 for where a GPU metric's values come from now (nvml, gpm or dcgm), 0 for "
                                + "the other source it may come from.")
                        .tag("field", m.name()).tag("source", source).strongReference(true).register(registry);
            }
        }
    }

    static List<String> candidates(MetricDef m, boolean dcgmOn) {
        List<String> c = new ArrayList<>(2);
        if (m.isDcgmField() || m.isGpuHealthStatus()) {
            c.add("dcgm");
            return c;
        }
        if (m.source() != null && m.source().source() instanceof Reading.Source.Gpm) {
            c.add("gpm");
            if (dcgmOn && DcgmFeed.PROFILING_FIELDS.containsKey(m.source())) {
                c.add("dcgm");
            }
            return c;
        }
        c.add("nvml");
        return c;
    }

    private boolean serves(MetricDef m, String source) {
        return source.equals(current(m));
    }

    private String current(MetricDef m) {
        if (m.isDcgmField() || m.isGpuHealthStatus()) {
            return "dcgm";
        }
        Reading r = m.source();
        if (r == null) {
            return "nvml";
        }
        boolean gpm = r.source() instanceof Reading.Source.Gpm;
        for (GpuSample g : latest.get().gpus()) {
            if (g.dcgm().readings().contains(r)) {
                return "dcgm";
            }
        }
        return gpm ? "gpm" : "nvml";
    }
}
