package io.gpuagent.exporter;

import java.util.Locale;

/** A counters-file metric type: what {@code # TYPE} says, or {@code label} for a field shown as a label. */
public enum MetricType {
    GAUGE, COUNTER, LABEL;

    /** As written in the exposition and in counters files: {@code gauge}, {@code counter}, {@code label}. */
    public String text() {
        return name().toLowerCase(Locale.ROOT);
    }
}
