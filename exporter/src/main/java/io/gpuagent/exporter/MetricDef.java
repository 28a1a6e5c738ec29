package io.gpuagent.exporter;

import java.util.Objects;

/**
 * One GPU metric: dcgm-exporter's name, type and help, the unit, and the {@link Reading} it is rendered from.
 *
 * @param name         the exposed name, e.g. {@code DCGM_FI_DEV_GPU_TEMP} (exactly; no suffix is added)
 * @param type         gauge or counter; {@link MetricType#LABEL} for a field rendered as a label on every series
 * @param help         the {@code # HELP} text
 * @param unit         for people (README); not part of the name
 * @param source       the reading; null for the agent-supplied XID families ({@link #isXid()},
 *                     {@link #isXidTotal()}), the clock-event totals ({@link #isClockEventsTotal()}) and labels
 * @param defaultSet   in the legacy default set (docs/metrics.md); otherwise opt-in or in another bundled set
 * @param dcgmFieldId  DCGM's field id (names are looked up by id, so DCGM 4.x aliases resolve too);
 *                     {@link #FIELD_ID_NOT_CONFIRMED} where no source read gives it, or one of the
 *                     exporter-owned ids ({@link #XID_ERRORS_TOTAL_ID}, {@link #CLOCK_EVENTS_TOTAL_ID})
 * @param scale        from the reading's unit to the unit the name promises, applied where the value is written
 */
public record MetricDef(String name, MetricType type, String help, String unit, Reading source, boolean defaultSet,
                        int dcgmFieldId, UnitScale scale) {

    /** DCGM_FI_DEV_XID_ERRORS. */
    public static final int XID_FIELD_ID = 230;
    /**
     * A DCGM field whose name a release note confirms but whose id no source read here gives
     * ({@code DCGM_FI_DEV_FB_CAPACITY_BYTES}); DCGM's own "unknown field" id, so it never resolves an alias.
     */
    public static final int FIELD_ID_NOT_CONFIRMED = 0;
    /**
     * {@code DCGM_EXP_XID_ERRORS_TOTAL}, a family dcgm-exporter computes itself (no DCGM field). dcgm-exporter
     * numbers its own families from 9000; these two are gpu-agent's numbers in that range, used only inside.
     */
    public static final int XID_ERRORS_TOTAL_ID = 9100;
    /** {@code DCGM_EXP_CLOCK_EVENTS_TOTAL}, likewise exporter-owned. */
    public static final int CLOCK_EVENTS_TOTAL_ID = 9101;
    /** {@code DCGM_EXP_GPU_HEALTH_STATUS}, likewise; served only with DCGM on (its health watches). */
    public static final int GPU_HEALTH_STATUS_ID = 9102;
    /** dcgm-exporter's name of {@link #GPU_HEALTH_STATUS_ID}. */
    public static final String GPU_HEALTH_STATUS = "DCGM_EXP_GPU_HEALTH_STATUS";

    public MetricDef {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(scale, "scale");
        help = help == null ? "" : help;
        unit = unit == null ? "" : unit;
    }

    /** DCGM_FI_DEV_XID_ERRORS: rendered from the last XID the agent supplies, with an {@code err_code} label. */
    public boolean isXid() {
        return dcgmFieldId == XID_FIELD_ID;
    }

    /** DCGM_EXP_XID_ERRORS_TOTAL: one series per XID seen on the GPU, label {@code xid}, from the agent's counts. */
    public boolean isXidTotal() {
        return dcgmFieldId == XID_ERRORS_TOTAL_ID;
    }

    /** DCGM_EXP_CLOCK_EVENTS_TOTAL: one series per clock event reason that began, label {@code clock_event}. */
    public boolean isClockEventsTotal() {
        return dcgmFieldId == CLOCK_EVENTS_TOTAL_ID;
    }

    /**
     * A DCGM field NVML cannot give that a counters file asked for while DCGM is on: no reading, rendered from
     * {@link GpuSample#dcgmField(int)} by its DCGM field id.
     */
    public boolean isDcgmField() {
        return source == null && type != MetricType.LABEL && dcgmFieldId > 0 && !isXid() && !isXidTotal()
                && !isClockEventsTotal() && !isGpuHealthStatus();
    }

    /**
     * DCGM_EXP_GPU_HEALTH_STATUS (DCGM on): per GPU one series per health watch, labels {@code health_watch} and
     * {@code health_error_code}, value DCGM's result (0 pass, 10 warn, 20 fail), as dcgm-exporter serves it.
     */
    public boolean isGpuHealthStatus() {
        return dcgmFieldId == GPU_HEALTH_STATUS_ID;
    }

    /** A DCGM-only field served from DCGM (see {@link #isDcgmField()}). */
    public static MetricDef dcgmField(String name, MetricType type, String help, int dcgmFieldId) {
        return new MetricDef(name, type, help, "", null, false, dcgmFieldId, UnitScale.NONE);
    }

    /** The same metric under another name, type and help (what a counters-file line chose). */
    public MetricDef as(String newName, MetricType newType, String newHelp) {
        return new MetricDef(newName, newType, newHelp, unit, source, defaultSet, dcgmFieldId, scale);
    }
}
