package io.gpuagent.dcgm;

import java.util.List;

/** {@code dcgmHealthResponse_v5}: the group's overall verdict and its incidents. */
public record HealthReport(HealthResult overall, List<HealthIncident> incidents) {
    public HealthReport {
        incidents = List.copyOf(incidents);
    }
}
