package io.gpuagent.exporter;

import java.util.Map;
import java.util.OptionalInt;

/**
 * What the agent adds to the GPU family at render time: extra labels per GPU (e.g. {@code hpc_job} on a
 * leased GPU) and the last XID per GPU (the agent's event thread sees XIDs; the sampler does not).
 * The writer caches its output per snapshot and {@link #version()}: bump the version whenever anything
 * this decorator returns changes.
 */
public interface GpuDecorator {

    /** Changes whenever {@link #extraLabels} or {@link #lastXid} would answer differently. */
    long version();

    /**
     * Labels appended to every series of {@code gpu}, after dcgm-exporter's own, in the map's iteration order.
     * Names must be valid Prometheus label names and not clash with the standard ones.
     */
    default Map<String, String> extraLabels(GpuInfo gpu) {
        return Map.of();
    }

    /** The last XID seen on {@code gpu}; empty renders {@code err_code="0"} with value 0, as dcgm-exporter does. */
    default OptionalInt lastXid(GpuInfo gpu) {
        return OptionalInt.empty();
    }

    /** No extra labels, no XIDs. */
    GpuDecorator NONE = () -> 0;
}
