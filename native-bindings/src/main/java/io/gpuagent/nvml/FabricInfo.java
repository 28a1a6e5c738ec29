package io.gpuagent.nvml;

import java.util.HexFormat;

/**
 * A GPU's place in its NVLink fabric ({@code nvmlDeviceGetGpuFabricInfoV}, else {@code nvmlDeviceGetGpuFabricInfo}):
 * on NVSwitch systems (HGX/DGX Hopper and Blackwell, NVL72) the Fabric Manager trains the fabric and registers each
 * GPU; until then the GPU has no peer-to-peer over NVLink.
 *
 * @param clusterUuid   the fabric cluster's UUID, {@code 8-4-4-4-12} lower-case hex
 * @param status        the probe's nvmlReturn_t (0 SUCCESS); meaningful once {@code state} is COMPLETED
 * @param cliqueId      the GPU's NVLink clique (the GPUs it can reach over NVLink)
 * @param state         {@link #NOT_SUPPORTED}, {@link #NOT_STARTED}, {@link #IN_PROGRESS}, {@link #COMPLETED}
 * @param healthMask    {@code NVML_GPU_FABRIC_HEALTH_MASK_*} bit fields; -1 when the driver has only the old call
 * @param healthSummary {@link #SUMMARY_HEALTHY} 1, {@link #SUMMARY_UNHEALTHY} 2, {@link #SUMMARY_LIMITED_CAPACITY} 3,
 *                      0 not reported; -1 when the driver's struct has no summary (before 570)
 */
public record FabricInfo(String clusterUuid, int status, long cliqueId, int state, long healthMask, int healthSummary) {

    public static final int NOT_SUPPORTED = 0;
    public static final int NOT_STARTED = 1;
    public static final int IN_PROGRESS = 2;
    public static final int COMPLETED = 3;
    public static final int SUMMARY_HEALTHY = 1;
    public static final int SUMMARY_UNHEALTHY = 2;
    public static final int SUMMARY_LIMITED_CAPACITY = 3;
    /** Bits 0-1 of the health mask: degraded bandwidth (1 true, 2 false, 0 not supported). */
    public static final int DEGRADED_BW_TRUE = 1;

    /** Whether the health mask says the GPU's NVLink bandwidth is degraded. */
    public boolean degradedBandwidth() {
        return healthMask >= 0 && (healthMask & 0x3) == DEGRADED_BW_TRUE;
    }

    /** {@code 00000000-0000-0000-0000-000000000001} from the struct's 16 bytes. */
    public static String uuid(byte[] bytes) {
        String hex = HexFormat.of().formatHex(bytes);
        return hex.substring(0, 8) + '-' + hex.substring(8, 12) + '-' + hex.substring(12, 16) + '-'
                + hex.substring(16, 20) + '-' + hex.substring(20);
    }
}
