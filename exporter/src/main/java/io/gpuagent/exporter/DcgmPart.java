package io.gpuagent.exporter;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What DCGM added to one GPU's sample in one sweep ({@link GpuSample#dcgm()}).
 *
 * @param readings   the readings whose value came from DCGM this sweep (the rest are NVML's)
 * @param fields     DCGM-only fields a counters file asked for, by DCGM field id (numbers only)
 * @param incidents  what {@code dcgmHealthCheck} reported for the GPU this sweep (empty: healthy, or not checked)
 * @param violations the policy violations DCGM delivered for the GPU since the previous sweep, oldest first
 * @param connected  whether DCGM answered for this sweep (false: the host engine is gone, or not connected yet)
 */
public record DcgmPart(Set<Reading> readings, Map<Integer, Double> fields, List<DcgmIncident> incidents,
                       List<DcgmViolation> violations, boolean connected) {

    /** Nothing from DCGM (DCGM off). */
    public static final DcgmPart NONE = new DcgmPart(Set.of(), Map.of(), List.of(), List.of(), false);

    public DcgmPart {
        readings = Set.copyOf(readings);
        fields = Map.copyOf(fields);
        incidents = List.copyOf(incidents);
        violations = List.copyOf(violations);
    }
}
