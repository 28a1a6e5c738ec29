package io.gpuagent.exporter;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The bundled counters files the agent serves when no counters file is given ({@code gpu-agent.metrics.default-set}).
 * Each is a dcgm-exporter counters CSV in this package.
 */
public enum DefaultSet {
    /**
     * The names dcgm-exporter served before 4.9 (MHz, mJ, %, MiB; label {@code DCGM_FI_DRIVER_VERSION}): what
     * existing dashboards, alerts and recording rules query. The default.
     */
    LEGACY("legacy", "default-counters.csv"),
    /**
     * dcgm-exporter 4.10's default set as far as the agent can serve it: DCGM 4.7's names in base units (Hz, J,
     * ratio, bytes), {@code DCGM_FI_DEV_FB_CAPACITY_BYTES}, the 4.10 {@code ..._BYTES_PER_SECOND} names and label
     * {@code DCGM_FI_SYSTEM_DRIVER_VERSION}. The file says, row by row, what it leaves as before and why.
     */
    DCGM_EXPORTER_4_10("dcgm-exporter-4.10", "dcgm-exporter-4.10-counters.csv");

    private final String configValue;
    private final String resource;

    DefaultSet(String configValue, String resource) {
        this.configValue = configValue;
        this.resource = resource;
    }

    /** As written in {@code gpu-agent.metrics.default-set}. */
    public String configValue() {
        return configValue;
    }

    /** The bundled counters file's name in this package. */
    public String resource() {
        return resource;
    }

    /**
     * The set a configuration value names (case does not matter).
     *
     * @throws IllegalArgumentException naming the value and the accepted ones
     */
    public static DefaultSet of(String value) {
        String v = value == null ? "" : value.strip().toLowerCase(Locale.ROOT);
        for (DefaultSet s : values()) {
            if (s.configValue.equals(v)) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown default metric set '" + value + "'; use one of "
                + Arrays.stream(values()).map(DefaultSet::configValue).collect(Collectors.joining(", ")));
    }
}
