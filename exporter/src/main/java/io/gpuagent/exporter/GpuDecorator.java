package io.gpuagent.exporter;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalInt;
import java.util.SortedMap;

/**
 * What the agent adds to the GPU family at render time: extra labels per GPU (e.g. {@code hpc_job} on a
 * leased GPU), the last XID per GPU and the count of each XID per GPU (the agent's event thread sees XIDs;
 * the sampler does not). On a GPU in MIG mode with GPU instances the writer renders one series set per GPU
 * instance and asks the instance-level methods, which answer for the GPU by default.
 * The writer caches its output per snapshot and {@link #version()}: bump the version whenever anything
 * this decorator returns changes.
 */
public interface GpuDecorator {

    /** Changes whenever {@link #extraLabels}, {@link #lastXid} or {@link #xidCounts} would answer differently. */
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

    /**
     * Labels appended to the series of the GPU instance that MIG device {@code mig} of {@code gpu} belongs to
     * (e.g. {@code hpc_job} of the lease holding that {@code MIG-} UUID); by default {@link #extraLabels(GpuInfo)}.
     * The writer asks once per MIG device of a GPU instance (one, unless the instance was split into several
     * compute instances) and merges the answers: see {@link GpuMetricsWriter}.
     */
    default Map<String, String> extraLabels(GpuInfo gpu, MigInstance mig) {
        return extraLabels(gpu);
    }

    /**
     * The last XID that named MIG device {@code mig} or hit the whole of {@code gpu}, whichever came last; by
     * default {@link #lastXid(GpuInfo)}. An answer other than {@code lastXid(gpu)}'s is taken as the instance's
     * own, later one.
     */
    default OptionalInt lastXid(GpuInfo gpu, MigInstance mig) {
        return lastXid(gpu);
    }

    /**
     * How many times each XID was seen on {@code gpu} since the agent started, ascending by XID, for
     * {@code DCGM_EXP_XID_ERRORS_TOTAL}; empty before the first. The writer iterates it while rendering: return
     * a map that does not change under it (a copy made when an XID came), not a live view.
     */
    default SortedMap<Integer, Long> xidCounts(GpuInfo gpu) {
        return Collections.emptySortedMap();
    }

    /** No extra labels, no XIDs. */
    GpuDecorator NONE = () -> 0;

    /**
     * Both decorators: labels of {@code first} then those of {@code second} (first wins a clash), the first
     * one's XID and XID counts when it has them; for a GPU and for a MIG device alike. The version is the sum of
     * both, so it moves whenever either one's does.
     */
    static GpuDecorator combine(GpuDecorator first, GpuDecorator second) {
        return new GpuDecorator() {
            @Override
            public long version() {
                return first.version() + second.version();
            }

            @Override
            public Map<String, String> extraLabels(GpuInfo gpu) {
                return both(first.extraLabels(gpu), second.extraLabels(gpu));
            }

            @Override
            public Map<String, String> extraLabels(GpuInfo gpu, MigInstance mig) {
                return both(first.extraLabels(gpu, mig), second.extraLabels(gpu, mig));
            }

            @Override
            public OptionalInt lastXid(GpuInfo gpu) {
                OptionalInt xid = first.lastXid(gpu);
                return xid.isPresent() ? xid : second.lastXid(gpu);
            }

            @Override
            public OptionalInt lastXid(GpuInfo gpu, MigInstance mig) {
                OptionalInt xid = first.lastXid(gpu, mig);
                return xid.isPresent() ? xid : second.lastXid(gpu, mig);
            }

            private static Map<String, String> both(Map<String, String> a, Map<String, String> b) {
                if (b.isEmpty()) {
                    return a;
                }
                if (a.isEmpty()) {
                    return b;
                }
                Map<String, String> both = new LinkedHashMap<>(b.size() + a.size());
                both.putAll(a);
                b.forEach(both::putIfAbsent);
                return both;
            }

            @Override
            public SortedMap<Integer, Long> xidCounts(GpuInfo gpu) {
                SortedMap<Integer, Long> counts = first.xidCounts(gpu);
                return counts.isEmpty() ? second.xidCounts(gpu) : counts;
            }
        };
    }
}
