package io.gpuagent.agent.usage;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code GET /v1/leases/{id}/usage}: a lease's totals at the top level and each device's detail under
 * {@code gpus} (docs/usage.md). Money is computed exactly (BigDecimal) per price period and rounded to the cent
 * only here; {@code cost.total} is the sum of the two rounded parts, so that what is shown adds up.
 *
 * @param live             the lease still runs: the totals grow (energy up to the last sweep, time up to now)
 * @param estimated        some part is not measured exactly; {@code estimatedBecause} says which
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record UsageReport(String leaseId, String jobId, String node, Instant grantedAt, Instant endedAt, boolean live,
                          BigDecimal energyJoules, BigDecimal gpuSeconds, Cost cost, boolean estimated,
                          List<String> estimatedBecause, List<LeaseUsage.Gap> unobserved, List<Device> gpus) {

    private static final MathContext MC = MathContext.DECIMAL128;
    private static final BigDecimal MJ_PER_KWH = BigDecimal.valueOf(3_600_000_000L);
    private static final BigDecimal SECONDS_PER_HOUR = BigDecimal.valueOf(3600);
    private static final BigDecimal THOUSAND = BigDecimal.valueOf(1000);

    /** Energy x price plus GPU-hours x rate, each part rounded to the cent; {@code total} is their sum. */
    public record Cost(String currency, BigDecimal energy, BigDecimal gpuTime, BigDecimal total) {

        static Cost of(String currency, BigDecimal energy, BigDecimal gpuTime) {
            BigDecimal e = energy.setScale(2, RoundingMode.HALF_UP);
            BigDecimal t = gpuTime.setScale(2, RoundingMode.HALF_UP);
            return new Cost(currency, e, t, e.add(t));
        }
    }

    /** One price period of a device: from when, at what prices, what it used. */
    public record Period(Instant from, BigDecimal energyPerKwh, BigDecimal gpuHourRate, BigDecimal energyJoules,
                         BigDecimal gpuSeconds) {
    }

    /**
     * One device's usage. Power figures are its GPU's (power is read per GPU); a MIG device's energy and GPU
     * time are its {@code share} of its GPU's.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Device(String uuid, String gpuUuid, int gpu, String model, String migProfile, double share,
                         BigDecimal energyJoules, BigDecimal gpuSeconds, Double averagePowerW, Double peakPowerW,
                         Double smActive, Double tensorActive, Long memoryHighMib, Double idleSeconds,
                         int counterResets, boolean estimated, int xids, List<Integer> xidCodes,
                         List<String> healthChanges, Cost cost, List<Period> periods) {
    }

    /** The report of {@code u} as of {@code now} (the end of a live lease's time so far). */
    public static UsageReport of(LeaseUsage u, Instant now) {
        Instant end = u.endedAt() != null ? u.endedAt() : now;
        List<Device> devices = new ArrayList<>();
        BigDecimal joules = BigDecimal.ZERO;
        BigDecimal seconds = BigDecimal.ZERO;
        BigDecimal energyCost = BigDecimal.ZERO;
        BigDecimal timeCost = BigDecimal.ZERO;
        List<String> why = new ArrayList<>();
        if (!u.unobserved().isEmpty()) {
            why.add("the agent was not running for part of the lease (see unobserved): the energy there comes from the "
                    + "GPU's counter, but power, activity and idle time were not seen");
        }
        boolean integrated = false;
        boolean mig = false;
        for (GpuUsage g : u.gpus()) {
            BigDecimal share = BigDecimal.valueOf(g.share());
            BigDecimal dJoules = BigDecimal.ZERO;
            BigDecimal dSeconds = BigDecimal.ZERO;
            BigDecimal dEnergyCost = BigDecimal.ZERO;
            BigDecimal dTimeCost = BigDecimal.ZERO;
            List<Period> periods = new ArrayList<>();
            List<GpuUsage.Segment> segs = g.segments();
            for (int i = 0; i < segs.size(); i++) {
                GpuUsage.Segment s = segs.get(i);
                Instant from = s.from().isBefore(u.grantedAt()) ? u.grantedAt() : s.from();
                Instant to = i + 1 < segs.size() ? segs.get(i + 1).from() : end;
                BigDecimal secs = to.isAfter(from) ? seconds(Duration.between(from, to)).multiply(share, MC)
                        : BigDecimal.ZERO;
                BigDecimal mj = BigDecimal.valueOf(s.gpuEnergyMj()).multiply(share, MC);
                dJoules = dJoules.add(mj.divide(THOUSAND, MC));
                dSeconds = dSeconds.add(secs);
                dEnergyCost = dEnergyCost.add(mj.divide(MJ_PER_KWH, MC).multiply(s.energyPerKwh(), MC));
                dTimeCost = dTimeCost.add(secs.divide(SECONDS_PER_HOUR, MC).multiply(s.gpuHourRate(), MC));
                periods.add(new Period(s.from(), s.energyPerKwh(), s.gpuHourRate(), joules3(mj.divide(THOUSAND, MC)),
                        seconds3(secs)));
            }
            double observedSeconds = dSeconds.doubleValue();
            Double avgPower = observedSeconds > 0 ? dJoules.doubleValue() / observedSeconds : null;
            boolean estimated = g.integrated() || g.migProfile() != null || !u.unobserved().isEmpty();
            integrated |= g.integrated();
            mig |= g.migProfile() != null;
            devices.add(new Device(g.uuid(), g.gpuUuid(), g.gpu(), g.model(), g.migProfile(), g.share(),
                    joules3(dJoules), seconds3(dSeconds), avgPower, g.peakPowerW(),
                    g.smSamples() == 0 ? null : g.smActiveSum() / g.smSamples(),
                    g.tensorSamples() == 0 ? null : g.tensorActiveSum() / g.tensorSamples(), g.memoryHighMib(),
                    g.idleSeconds(), g.counterResets(), estimated, g.xids(), g.xidCodes(), g.healthChanges(),
                    Cost.of(u.currency(), dEnergyCost, dTimeCost), periods));
            joules = joules.add(dJoules);
            seconds = seconds.add(dSeconds);
            energyCost = energyCost.add(dEnergyCost);
            timeCost = timeCost.add(dTimeCost);
        }
        if (integrated) {
            why.add("a GPU's driver has no energy counter: its energy is its power integrated over the sweeps");
        }
        if (mig) {
            why.add("power is read per GPU: a MIG device's energy is its share of its GPU's (slices out of "
                    + DeviceMeter.GPU_SLICES + ")");
        }
        return new UsageReport(u.leaseId(), u.jobId(), u.node(), u.grantedAt(), u.endedAt(), u.endedAt() == null,
                joules3(joules), seconds3(seconds), Cost.of(u.currency(), energyCost, timeCost), !why.isEmpty(),
                why.isEmpty() ? null : List.copyOf(why), u.unobserved().isEmpty() ? null : u.unobserved(),
                List.copyOf(devices));
    }

    /**
     * An ended lease's summary from the totals journaled with it ({@link LeaseUsage#totals()}): what
     * {@code of(u, u.endedAt()).summary()} gives, without the devices (which {@code u} may lack).
     */
    static UsageReport summary(LeaseUsage u, LeaseUsage.Totals t) {
        List<String> why = t.estimatedBecause() == null || t.estimatedBecause().isEmpty() ? null : t.estimatedBecause();
        return new UsageReport(u.leaseId(), u.jobId(), u.node(), u.grantedAt(), u.endedAt(), false, t.energyJoules(),
                t.gpuSeconds(), Cost.of(u.currency(), t.energyCost(), t.gpuTimeCost()), why != null, why,
                u.unobserved().isEmpty() ? null : u.unobserved(), null);
    }

    /** The same report without the per-device detail (for lists). */
    public UsageReport summary() {
        return new UsageReport(leaseId, jobId, node, grantedAt, endedAt, live, energyJoules, gpuSeconds, cost,
                estimated, estimatedBecause, unobserved, null);
    }

    private static BigDecimal seconds(Duration d) {
        return BigDecimal.valueOf(d.getSeconds()).add(BigDecimal.valueOf(d.getNano(), 9));
    }

    private static BigDecimal joules3(BigDecimal j) {
        return j.setScale(3, RoundingMode.HALF_UP);
    }

    private static BigDecimal seconds3(BigDecimal s) {
        return s.setScale(3, RoundingMode.HALF_UP);
    }
}
