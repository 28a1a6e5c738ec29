package io.gpuagent.exporter;

/**
 * How a metric's value relates to its {@link Reading}'s: DCGM 4.7's canonical names promise base units
 * (hertz, joules, a 0-1 ratio, bytes) where the older names carry MHz, mJ, percent and MiB. Both names render
 * from the same reading; the scale is applied where the value is written, so no second reading is taken.
 *
 * <p>A multiplication then a division, each correctly rounded, so that {@code 123456 mJ} is written
 * {@code 123.456} and {@code 42 %} {@code 0.42} (a multiplication by {@code 0.001} or {@code 0.01} would
 * write {@code 123.45600000000002}).
 */
public enum UnitScale {
    /** The reading's unit is the metric's. */
    NONE(1, 1),
    /** MHz to Hz (x 10^6). */
    MEGAHERTZ_TO_HERTZ(1_000_000, 1),
    /** mJ to J (/ 1000). */
    MILLIJOULES_TO_JOULES(1, 1000),
    /** Percent to a 0-1 ratio (/ 100; a fan above 100 % stays above 1). */
    PERCENT_TO_RATIO(1, 100),
    /** MiB to bytes (x 2^20). */
    MEBIBYTES_TO_BYTES(1024 * 1024, 1);

    private final double multiplier;
    private final double divisor;

    UnitScale(double multiplier, double divisor) {
        this.multiplier = multiplier;
        this.divisor = divisor;
    }

    /** {@code reading} in the metric's unit. */
    public double apply(double reading) {
        return reading * multiplier / divisor;
    }
}
