package io.gpuagent.dcgm;

/**
 * One entity's latest value of one field ({@code dcgmFieldValue_v2}). {@code status} is DCGM's per-value status:
 * OK, or e.g. NOT_WATCHED / NO_DATA, when {@code data} is {@link FieldData.Blank}.
 */
public record FieldValue(Entity entity, int fieldId, int status, long timestampMicros, FieldData data) {

    public boolean ok() {
        return status == DcgmReturn.OK.code() && !(data instanceof FieldData.Blank);
    }

    /** The value of a field DCGM gives as a double, or an integer field as a double. */
    public double asDouble() {
        return switch (data) {
            case FieldData.Int i -> i.value();
            case FieldData.Dbl d -> d.value();
            default -> throw new IllegalStateException(this + " has no number");
        };
    }
}
