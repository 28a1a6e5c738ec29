package io.gpuagent.dcgm;

/** {@code dcgmHealthSystems_t} bits for {@link Dcgm#setHealthWatches}. */
public final class HealthSystems {
    public static final int PCIE = 0x1;
    public static final int NVLINK = 0x2;
    public static final int PMU = 0x4;
    public static final int MCU = 0x8;
    public static final int MEM = 0x10;
    public static final int SM = 0x20;
    public static final int INFOROM = 0x40;
    public static final int THERMAL = 0x80;
    public static final int POWER = 0x100;
    public static final int DRIVER = 0x200;
    public static final int ALL = 0xFFFFFFFF;

    private HealthSystems() {
    }

    /** The watch's name as dcgm-exporter labels it ({@code health_watch}). */
    public static String name(int system) {
        return switch (system) {
            case PCIE -> "PCIE";
            case NVLINK -> "NVLINK";
            case PMU -> "PMU";
            case MCU -> "MCU";
            case MEM -> "MEM";
            case SM -> "SM";
            case INFOROM -> "INFOROM";
            case THERMAL -> "THERMAL";
            case POWER -> "POWER";
            case DRIVER -> "DRIVER";
            default -> "0x" + Integer.toHexString(system);
        };
    }
}
