package io.gpuagent.dcgm;

/** One incident of {@code dcgmHealthCheck}: which watch ({@link HealthSystems}), how bad, the {@code DCGM_FR_*} code. */
public record HealthIncident(Entity entity, int system, HealthResult health, int errorCode, String message) {
}
