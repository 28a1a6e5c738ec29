package io.gpuagent.agent.lease;

import java.util.regex.Pattern;

/**
 * The {@code mig} part of a lease request ({@code POST /v1/leases}) and of a placement: {@code count} MIG devices
 * whose GPU instance has {@code profile}, the name NVML gives the profile without its {@code "MIG "} prefix
 * ({@code 1g.10gb}, {@code 3g.40gb}, {@code 1g.10gb+me}), as {@code nvidia-smi -L}, dcgm-exporter's
 * {@code GPU_I_PROFILE} and the device plugin's {@code nvidia.com/mig-<profile>} write it.
 */
public record MigRequest(String profile, Integer count) {

    /**
     * {@code <slices>g.<memory>gb}, then at most three option suffixes: {@code +me} (media extensions), and the
     * Blackwell forms {@code +gfx}, {@code -me}, {@code +me.all}.
     */
    private static final Pattern PROFILE = Pattern.compile("[1-8]g\\.[1-9][0-9]{0,3}gb([+-][a-z]{1,8}(\\.[a-z]{1,8})?){0,3}");

    /**
     * Checks what can be checked without looking at the node.
     *
     * @throws IllegalArgumentException naming the field and what it must be
     */
    public MigRequest {
        if (profile == null) {
            throw new IllegalArgumentException("\"mig.profile\" is required: a MIG profile such as 1g.10gb, 3g.40gb "
                    + "or 1g.10gb+me (nvidia-smi -L names each MIG device's)");
        }
        if (!PROFILE.matcher(profile).matches()) {
            String hint = profile.startsWith("MIG ") ? " without NVML's \"MIG \" prefix" : "";
            throw new IllegalArgumentException("\"mig.profile\" must be a MIG profile such as 1g.10gb, 3g.40gb or "
                    + "1g.10gb+me" + hint + ", got \"" + LeaseRequest.printable(profile) + "\"");
        }
        if (count == null) {
            throw new IllegalArgumentException("\"mig.count\" is required: how many MIG devices of " + profile);
        }
        if (count < 1) {
            throw new IllegalArgumentException("\"mig.count\" must be at least 1, got " + count);
        }
    }
}
