package io.gpuagent.dcgm;

import java.util.EnumSet;
import java.util.Set;

/** {@code dcgmPolicyCondition_t}: what a policy watches; each is one bit. */
public enum PolicyCondition {
    DBE(0x1), PCI(0x2), MAX_PAGES_RETIRED(0x4), THERMAL(0x8), POWER(0x10), NVLINK(0x20), XID(0x40);

    private final int bit;

    PolicyCondition(int bit) {
        this.bit = bit;
    }

    public int bit() {
        return bit;
    }

    public static int mask(Set<PolicyCondition> conditions) {
        int m = 0;
        for (PolicyCondition c : conditions) {
            m |= c.bit;
        }
        return m;
    }

    /** The one condition a callback names; null when it names none this list knows. */
    public static PolicyCondition ofBit(int bit) {
        for (PolicyCondition c : values()) {
            if (c.bit == bit) {
                return c;
            }
        }
        return null;
    }

    public static Set<PolicyCondition> all() {
        return EnumSet.allOf(PolicyCondition.class);
    }
}
