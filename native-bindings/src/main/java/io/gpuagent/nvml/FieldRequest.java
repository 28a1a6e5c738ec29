package io.gpuagent.nvml;

/** A field to fetch in a batch: an {@code NVML_FI_*} id and its scope (link index, power scope; usually 0). */
public record FieldRequest(int fieldId, int scopeId) {
    public static FieldRequest of(int fieldId) {
        return new FieldRequest(fieldId, 0);
    }
}
