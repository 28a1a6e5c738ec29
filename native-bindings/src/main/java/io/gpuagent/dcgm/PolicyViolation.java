package io.gpuagent.dcgm;

/**
 * One policy violation DCGM reported through the callback ({@code dcgmPolicyCallbackResponse_v2}), copied out of the
 * native struct. {@code value} is the condition's number: the XID, the DBE count, the temperature or power reached,
 * the PCIe replay or NVLink counter, the DBE-retired pages; {@code conditionBits} is the raw condition when
 * {@code condition} is null.
 */
public record PolicyViolation(PolicyCondition condition, int conditionBits, int gpuId, long timestampMicros, long value) {
}
