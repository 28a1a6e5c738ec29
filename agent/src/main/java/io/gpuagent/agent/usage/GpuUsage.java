package io.gpuagent.agent.usage;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;

/**
 * One device's running totals within a lease, as journaled in {@code usage.jsonl} (docs/usage.md).
 *
 * @param uuid           the leased device: a {@code GPU-} UUID, or a {@code MIG-} UUID
 * @param gpuUuid        the GPU it is on (itself for a whole GPU): power and energy are read per GPU
 * @param gpu            NVML index of that GPU
 * @param model          the GPU's model name (what {@code gpu-agent.cost.gpu-hour.<model>} prices)
 * @param migProfile     a MIG device's profile; null for a whole GPU
 * @param share          the part of the GPU's energy and GPU-hour rate this device is charged: 1 for a whole GPU,
 *                       a MIG device's slices / 7 split evenly among the compute instances of its GPU instance
 * @param gpuEnergyMj    the GPU's energy during the lease, millijoules: counter deltas, or power x time where the
 *                       driver has no counter ({@code integrated})
 * @param integrated     some of the energy is power integrated over sweeps (no counter): an estimate
 * @param counterResets  times the counter went down (driver reload, GPU reset, wrap): counting went on from 0
 * @param counterMj      the last counter reading taken into account; null before the first, or without a counter
 * @param readAt         when that last reading was taken
 * @param peakPowerW     highest power the GPU drew at a sweep during the lease; null before a reading
 * @param smActiveSum    sum of the SM activity ratios read (average = sum / samples); 0 samples: not measured
 * @param tensorActiveSum sum of the tensor pipe activity ratios read
 * @param memoryHighMib  highest frame buffer use seen (a MIG device's own); null before a reading
 * @param idleSeconds    leased time at sweeps where the GPU's utilisation was below the idle threshold; null where
 *                       utilisation is not measured (MIG devices: NVML has no per-instance utilisation)
 * @param xids           XIDs on this device (or its GPU) during the lease, the last 16 codes in {@code xidCodes}
 * @param healthChanges  the device's health changes during the lease, the last 16
 * @param segments       the energy by price period: a price change starts a new one
 */
public record GpuUsage(String uuid, String gpuUuid, int gpu, String model, String migProfile, double share,
                       long gpuEnergyMj, boolean integrated, int counterResets, Long counterMj, Instant readAt,
                       Double peakPowerW, double smActiveSum, int smSamples, double tensorActiveSum, int tensorSamples,
                       Long memoryHighMib, Double idleSeconds, int xids, List<Integer> xidCodes,
                       List<String> healthChanges, List<Segment> segments) {

    /** Most XID codes and health changes kept per device: the counts go on. */
    static final int KEPT = 16;

    public GpuUsage {
        // Thousands of ended leases name the same few GPUs: one copy of each name, not one per line read.
        uuid = uuid == null ? null : uuid.intern();
        gpuUuid = gpuUuid == null ? null : gpuUuid.intern();
        model = model == null ? null : model.intern();
        migProfile = migProfile == null ? null : migProfile.intern();
        xidCodes = xidCodes == null ? List.of() : List.copyOf(xidCodes);
        healthChanges = healthChanges == null ? List.of() : List.copyOf(healthChanges);
        segments = segments == null ? List.of() : List.copyOf(segments);
    }

    /**
     * A price period: from {@code from} on (the lease's grant for the first), the energy the GPU used under these
     * prices. Its GPU time runs to the next period's start, or the lease's end.
     */
    public record Segment(Instant from, BigDecimal energyPerKwh, BigDecimal gpuHourRate, long gpuEnergyMj) {
    }
}
