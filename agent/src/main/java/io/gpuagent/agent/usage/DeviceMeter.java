package io.gpuagent.agent.usage;

import io.gpuagent.exporter.GpuSample;
import io.gpuagent.exporter.MigSample;
import io.gpuagent.exporter.Reading;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * One leased device's running totals, fed one sweep at a time (docs/usage.md). Not thread-safe: the ledger
 * calls it under its lock. The energy is the GPU's counter (nvmlDeviceGetTotalEnergyConsumption, millijoules)
 * summed over the deltas between consecutive readings, so it is exact whatever the sweep interval; a reading
 * lower than the one before is a counter that restarted (driver reload, reset, wrap) and counts from 0.
 */
final class DeviceMeter {

    /** MIG slices of a whole A100/H100/H200; a MIG device is charged its GPU instance's slices out of these. */
    static final int GPU_SLICES = 7;

    private final String uuid;
    private final String gpuUuid;
    private final int gpu;
    private final String model;
    private final String migProfile;
    private final double share;
    private long gpuEnergyMj;
    private boolean integrated;
    private int counterResets;
    private Long counterMj;
    private Instant readAt;
    private Double peakPowerW;
    private double smActiveSum;
    private int smSamples;
    private double tensorActiveSum;
    private int tensorSamples;
    private Long memoryHighMib;
    private Double idleSeconds;
    private int xids;
    private final List<Integer> xidCodes = new ArrayList<>();
    private final List<String> healthChanges = new ArrayList<>();
    private final List<GpuUsage.Segment> segments = new ArrayList<>();

    private DeviceMeter(GpuUsage u) {
        uuid = u.uuid();
        gpuUuid = u.gpuUuid();
        gpu = u.gpu();
        model = u.model();
        migProfile = u.migProfile();
        share = u.share();
        gpuEnergyMj = u.gpuEnergyMj();
        integrated = u.integrated();
        counterResets = u.counterResets();
        counterMj = u.counterMj();
        readAt = u.readAt();
        peakPowerW = u.peakPowerW();
        smActiveSum = u.smActiveSum();
        smSamples = u.smSamples();
        tensorActiveSum = u.tensorActiveSum();
        tensorSamples = u.tensorSamples();
        memoryHighMib = u.memoryHighMib();
        idleSeconds = u.idleSeconds();
        xids = u.xids();
        xidCodes.addAll(u.xidCodes());
        healthChanges.addAll(u.healthChanges());
        segments.addAll(u.segments());
    }

    /** Resumes from a journaled checkpoint. */
    static DeviceMeter resume(GpuUsage checkpoint) {
        return new DeviceMeter(checkpoint);
    }

    /** A new device of a lease granted at {@code from}, priced from then on at {@code prices}. */
    static DeviceMeter start(String uuid, String gpuUuid, int gpu, String model, String migProfile, double share,
                             Instant from, Prices prices) {
        GpuUsage.Segment first = new GpuUsage.Segment(from, prices.energyPerKwh(), prices.gpuHourRate(model), 0);
        return new DeviceMeter(new GpuUsage(uuid, gpuUuid, gpu, model, migProfile, share, 0, false, 0, null, null,
                null, 0, 0, 0, 0, null, migProfile == null ? 0.0 : null, 0, List.of(), List.of(), List.of(first)));
    }

    /** A MIG device's share: its GPU instance's slices out of 7, split evenly among the instance's compute instances. */
    static double migShare(int slices, int computeInstancesInGi) {
        return (double) slices / GPU_SLICES / Math.max(1, computeInstancesInGi);
    }

    String uuid() {
        return uuid;
    }

    String gpuUuid() {
        return gpuUuid;
    }

    boolean mig() {
        return migProfile != null;
    }

    Instant readAt() {
        return readAt;
    }

    /** Not watched since {@code since} (the agent was down): the next reading bridges the time with power x time. */
    void unseenSince(Instant since) {
        counterMj = null;
        readAt = since;
    }

    /** Takes the reading as the starting point without counting anything before it (the lease's baseline). */
    void baseline(GpuSample s) {
        double counter = s.raw(Reading.TOTAL_ENERGY_MJ);
        counterMj = Double.isNaN(counter) ? null : (long) counter;
        readAt = s.readAt();
    }

    /**
     * Adds one sweep's readings of the device's GPU ({@code mig}: its own MIG device, or null). A reading no newer
     * than the last one taken (a stale GPU repeats its old values) is skipped. With {@code unobserved} the time
     * since the last reading was not watched (the agent was down): the counter delta still counts, exactly, but
     * the time counts towards neither idle time nor power integration beyond the power read now.
     *
     * @return true when the counter went down since the last reading (it restarted)
     */
    boolean observe(GpuSample s, MigSample mig, double idleThresholdPct, boolean unobserved) {
        Instant at = s.readAt();
        if (readAt != null && !at.isAfter(readAt)) {
            return false;
        }
        double seconds = readAt == null ? 0 : Duration.between(readAt, at).toNanos() / 1e9;
        double counter = s.raw(Reading.TOTAL_ENERGY_MJ);
        double power = s.raw(Reading.POWER_USAGE_W);
        boolean restarted = false;
        long delta = 0;
        if (!Double.isNaN(counter)) {
            long c = (long) counter;
            if (counterMj != null) {
                if (c >= counterMj) {
                    delta = c - counterMj;
                } else {
                    restarted = true;
                    counterResets++;
                    delta = c;   // it counts again from 0: the energy between the last reading and the restart is lost
                }
            } else if (readAt != null && !Double.isNaN(power)) {
                delta = Math.round(power * seconds * 1000);   // the counter appeared: bridge with power x time
                integrated = true;
            }
            counterMj = c;
        } else {
            counterMj = null;
            if (readAt != null && !Double.isNaN(power)) {
                delta = Math.round(power * seconds * 1000);
                integrated = true;
            }
        }
        gpuEnergyMj += delta;
        GpuUsage.Segment last = segments.getLast();
        segments.set(segments.size() - 1, new GpuUsage.Segment(last.from(), last.energyPerKwh(), last.gpuHourRate(),
                last.gpuEnergyMj() + delta));
        if (!Double.isNaN(power)) {
            peakPowerW = peakPowerW == null ? power : Math.max(peakPowerW, power);
        }
        double sm = mig != null && mig.has(Reading.SM_ACTIVE) ? mig.raw(Reading.SM_ACTIVE) : mig == null ? s.raw(Reading.SM_ACTIVE) : Double.NaN;
        if (!Double.isNaN(sm)) {
            smActiveSum += sm;
            smSamples++;
        }
        double tensor = mig != null ? mig.raw(Reading.PIPE_TENSOR_ACTIVE) : s.raw(Reading.PIPE_TENSOR_ACTIVE);
        if (!Double.isNaN(tensor)) {
            tensorActiveSum += tensor;
            tensorSamples++;
        }
        double used = mig != null ? mig.raw(Reading.FB_USED_MIB) : s.raw(Reading.FB_USED_MIB);
        if (!Double.isNaN(used)) {
            memoryHighMib = memoryHighMib == null ? (long) used : Math.max(memoryHighMib, (long) used);
        }
        double util = s.raw(Reading.GPU_UTIL_PCT);
        if (mig == null && !unobserved && readAt != null && !Double.isNaN(util) && util < idleThresholdPct) {
            idleSeconds = (idleSeconds == null ? 0 : idleSeconds) + seconds;
        }
        readAt = at;
        return restarted;
    }

    /** New prices from {@code at} on; time and energy before stay at the old ones. */
    void reprice(Prices prices, Instant at) {
        GpuUsage.Segment last = segments.getLast();
        var rate = prices.gpuHourRate(model);
        if (last.energyPerKwh().compareTo(prices.energyPerKwh()) == 0 && last.gpuHourRate().compareTo(rate) == 0) {
            return;
        }
        segments.add(new GpuUsage.Segment(at, prices.energyPerKwh(), rate, 0));
    }

    void xid(int code) {
        xids++;
        xidCodes.add(code);
        if (xidCodes.size() > GpuUsage.KEPT) {
            xidCodes.removeFirst();
        }
    }

    void healthChange(String change) {
        healthChanges.add(change);
        if (healthChanges.size() > GpuUsage.KEPT) {
            healthChanges.removeFirst();
        }
    }

    GpuUsage snapshot() {
        return new GpuUsage(uuid, gpuUuid, gpu, model, migProfile, share, gpuEnergyMj, integrated, counterResets,
                counterMj, readAt, peakPowerW, smActiveSum, smSamples, tensorActiveSum, tensorSamples, memoryHighMib,
                idleSeconds, xids, xidCodes, healthChanges, segments);
    }
}
