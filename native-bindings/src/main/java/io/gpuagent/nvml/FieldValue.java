package io.gpuagent.nvml;

/**
 * One entry of an {@code nvmlDeviceGetFieldValues} batch. Check {@link #ok()}: the batch succeeds when any
 * entry does. {@code valueType} is NVML's {@code nvmlValueType_t}; {@link #asLong()} and {@link #asDouble()}
 * read the union accordingly. {@code timestampUs} is microseconds since the epoch.
 */
public record FieldValue(int fieldId, int scopeId, int returnCode, int valueType, long rawValue, long timestampUs) {
    public static final int TYPE_DOUBLE = 0;
    public static final int TYPE_UNSIGNED_INT = 1;
    public static final int TYPE_UNSIGNED_LONG = 2;
    public static final int TYPE_UNSIGNED_LONG_LONG = 3;
    public static final int TYPE_SIGNED_LONG_LONG = 4;
    public static final int TYPE_SIGNED_INT = 5;
    public static final int TYPE_UNSIGNED_SHORT = 6;

    public boolean ok() {
        return returnCode == NvmlReturn.SUCCESS.code();
    }

    public long asLong() {
        return switch (valueType) {
            case TYPE_DOUBLE -> (long) Double.longBitsToDouble(rawValue);
            case TYPE_UNSIGNED_INT -> rawValue & 0xFFFF_FFFFL;
            case TYPE_SIGNED_INT -> (int) rawValue;
            case TYPE_UNSIGNED_SHORT -> rawValue & 0xFFFFL;
            default -> rawValue;
        };
    }

    public double asDouble() {
        return switch (valueType) {
            case TYPE_DOUBLE -> Double.longBitsToDouble(rawValue);
            case TYPE_UNSIGNED_LONG, TYPE_UNSIGNED_LONG_LONG -> rawValue >= 0 ? rawValue : (rawValue >>> 1) * 2.0 + (rawValue & 1);
            default -> asLong();
        };
    }
}
