package io.gpuagent.agent.lease;

import java.util.HashSet;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The body of {@code POST /v1/leases} (docs/placement-protocol.md): exactly one of {@code gpus} (how many whole
 * GPUs), {@code uuids} (which devices: whole GPUs by {@code GPU-} UUID, or MIG devices by {@code MIG-} UUID, not
 * both) and {@code mig} (how many MIG devices of a profile). Null fields were absent.
 *
 * @param minMemoryMiB     each GPU (or MIG device) must have at least this much free memory now
 * @param sameNvlinkDomain the GPUs must be pairwise NVLink-connected (not with MIG devices: MIG has no peer-to-peer)
 * @param ttlSeconds       1..604800, default 3600
 */
public record LeaseRequest(String jobId, Integer gpus, List<String> uuids, MigRequest mig, Long minMemoryMiB,
                           Boolean sameNvlinkDomain, Long ttlSeconds) {

    public static final long DEFAULT_TTL_SECONDS = 3600;
    public static final long MAX_TTL_SECONDS = 604_800;
    private static final Pattern JOB_ID = Pattern.compile("[A-Za-z0-9._:@/-]{1,128}");

    /**
     * Checks what can be checked without looking at the node.
     *
     * @throws IllegalArgumentException naming the field and what it must be
     */
    public LeaseRequest {
        if (jobId == null) {
            throw new IllegalArgumentException("\"jobId\" is required: 1-128 characters of A-Z a-z 0-9 . _ : @ / -");
        }
        if (!JOB_ID.matcher(jobId).matches()) {
            throw new IllegalArgumentException("\"jobId\" must be 1-128 characters of A-Z a-z 0-9 . _ : @ / -, got \""
                    + printable(jobId) + "\"");
        }
        if ((gpus != null ? 1 : 0) + (uuids != null ? 1 : 0) + (mig != null ? 1 : 0) != 1) {
            throw new IllegalArgumentException("give exactly one of \"gpus\" (how many GPUs), \"uuids\" (which GPUs or "
                    + "MIG devices) and \"mig\" (how many MIG devices of a profile, e.g. {\"profile\":\"1g.10gb\",\"count\":2})");
        }
        if (gpus != null && gpus < 1) {
            throw new IllegalArgumentException("\"gpus\" must be at least 1, got " + gpus);
        }
        if (uuids != null) {
            if (uuids.isEmpty()) {
                throw new IllegalArgumentException("\"uuids\" must name at least one GPU");
            }
            if (uuids.stream().anyMatch(u -> u == null || u.isBlank())) {
                throw new IllegalArgumentException("\"uuids\" must not contain null or empty entries");
            }
            if (new HashSet<>(uuids).size() != uuids.size()) {
                throw new IllegalArgumentException("\"uuids\" names a GPU twice: " + uuids);
            }
            long migs = uuids.stream().filter(LeaseRequest::isMig).count();
            if (migs > 0 && migs < uuids.size()) {
                throw new IllegalArgumentException("\"uuids\" names both MIG devices (MIG-...) and whole GPUs; a lease "
                        + "is of whole GPUs or of MIG devices, ask for each in its own lease");
            }
            uuids = List.copyOf(uuids);
        }
        if (Boolean.TRUE.equals(sameNvlinkDomain) && (mig != null || (uuids != null && isMig(uuids.getFirst())))) {
            throw new IllegalArgumentException("\"sameNvlinkDomain\" cannot be asked for MIG devices: they have no "
                    + "peer-to-peer access, over NVLink or PCIe");
        }
        if (minMemoryMiB != null && minMemoryMiB < 0) {
            throw new IllegalArgumentException("\"minMemoryMiB\" must be 0 or more, got " + minMemoryMiB);
        }
        if (ttlSeconds != null && (ttlSeconds < 1 || ttlSeconds > MAX_TTL_SECONDS)) {
            throw new IllegalArgumentException("\"ttlSeconds\" must be 1.." + MAX_TTL_SECONDS + ", got " + ttlSeconds);
        }
    }

    /** Whether this asks for MIG devices: by profile, or by {@code MIG-} UUIDs. */
    public boolean migDevices() {
        return mig != null || (uuids != null && isMig(uuids.getFirst()));
    }

    /** A MIG device's UUID, as the driver writes it ({@code MIG-<uuid>}, or {@code MIG-GPU-<uuid>/<gi>/<ci>} before R470). */
    static boolean isMig(String uuid) {
        return uuid.startsWith("MIG-");
    }

    public long ttl() {
        return ttlSeconds == null ? DEFAULT_TTL_SECONDS : ttlSeconds;
    }

    public boolean nvlinkRequired() {
        return Boolean.TRUE.equals(sameNvlinkDomain);
    }

    public long minMemory() {
        return minMemoryMiB == null ? 0 : minMemoryMiB;
    }

    static String printable(String s) {
        String cut = s.length() > 140 ? s.substring(0, 140) + "..." : s;
        return cut.replaceAll("\\p{Cntrl}", "?");
    }
}
