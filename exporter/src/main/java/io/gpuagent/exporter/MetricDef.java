package io.gpuagent.exporter;

import java.util.Objects;

/**
 * One GPU metric: dcgm-exporter's name, type and help, the unit, and the {@link Reading} it is rendered from.
 *
 * @param name         the exposed name, e.g. {@code DCGM_FI_DEV_GPU_TEMP} (exactly; no suffix is added)
 * @param type         gauge or counter; {@link MetricType#LABEL} for a field rendered as a label on every series
 * @param help         the {@code # HELP} text
 * @param unit         for people (README); not part of the name
 * @param source       the reading; null for {@link #isXid() XID} (the agent supplies it) and label fields
 * @param defaultSet   in the default set (docs/metrics.md); otherwise opt-in
 * @param dcgmFieldId  DCGM's field id (names are looked up by id, so DCGM 4.x aliases resolve too)
 */
public record MetricDef(String name, MetricType type, String help, String unit, Reading source, boolean defaultSet,
                        int dcgmFieldId) {

    /** DCGM_FI_DEV_XID_ERRORS. */
    public static final int XID_FIELD_ID = 230;

    public MetricDef {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        help = help == null ? "" : help;
        unit = unit == null ? "" : unit;
    }

    /** DCGM_FI_DEV_XID_ERRORS: rendered from the last XID the agent supplies, with an {@code err_code} label. */
    public boolean isXid() {
        return dcgmFieldId == XID_FIELD_ID;
    }

    /** The same metric under another name, type and help (what a counters-file line chose). */
    public MetricDef as(String newName, MetricType newType, String newHelp) {
        return new MetricDef(newName, newType, newHelp, unit, source, defaultSet, dcgmFieldId);
    }
}
