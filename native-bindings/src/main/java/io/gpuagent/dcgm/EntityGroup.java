package io.gpuagent.dcgm;

/** {@code dcgm_field_entity_group_t}: what kind of thing a DCGM entity id names. */
public enum EntityGroup {
    NONE, GPU, VGPU, SWITCH, GPU_I, GPU_CI, LINK, CPU, CPU_CORE, CONNECTX;

    /** The C value (the enum's position, as in dcgm_fields.h). */
    public int code() {
        return ordinal();
    }

    public static EntityGroup of(int code) {
        EntityGroup[] all = values();
        if (code < 0 || code >= all.length) {
            throw new IllegalArgumentException("unknown DCGM entity group " + code);
        }
        return all[code];
    }
}
