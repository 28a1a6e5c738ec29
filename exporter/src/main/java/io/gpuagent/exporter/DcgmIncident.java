package io.gpuagent.exporter;

/**
 * One incident of DCGM's health watches ({@code dcgmHealthCheck}) on a GPU.
 *
 * @param watch   the health watch, as dcgm-exporter labels it ({@code PCIE}, {@code MEM}, {@code THERMAL}, ...)
 * @param failed  FAIL (true) or WARN (false)
 * @param code    the {@code DCGM_FR_*} error code
 * @param message DCGM's sentence
 */
public record DcgmIncident(String watch, boolean failed, int code, String message) {
}
