package io.gpuagent.exporter;

import java.time.Instant;

/**
 * One DCGM policy violation on a GPU ({@code dcgmPolicyRegister_v2}'s callback, copied and queued by the bindings
 * and drained by the sampler's DCGM thread).
 *
 * @param condition the policy condition ({@code DBE}, {@code PCI}, {@code MAX_PAGES_RETIRED}, {@code THERMAL},
 *                  {@code POWER}, {@code NVLINK}, {@code XID}; {@code 0x..} for one this agent does not know)
 * @param value     the condition's number: the XID, the error count, the temperature or power reached
 * @param at        when DCGM saw it
 */
public record DcgmViolation(String condition, long value, Instant at) {
}
