package io.gpuagent.agent.usage;

import java.math.BigDecimal;
import java.util.List;

/**
 * The sum of several leases' usage (a {@code GET /v1/usage} page, a placement across nodes): the rounded figures
 * each report shows, added, so that the total is what a reader adding them up gets. {@code cost} only when
 * they share one currency (null otherwise: money in two currencies does not add).
 */
public record UsageTotals(int leases, BigDecimal energyJoules, BigDecimal gpuSeconds, UsageReport.Cost cost,
                          boolean estimated) {

    public static UsageTotals of(List<UsageReport> reports) {
        BigDecimal joules = BigDecimal.ZERO;
        BigDecimal seconds = BigDecimal.ZERO;
        BigDecimal energy = BigDecimal.ZERO;
        BigDecimal time = BigDecimal.ZERO;
        boolean estimated = false;
        long currencies = reports.stream().map(r -> r.cost().currency()).distinct().count();
        for (UsageReport r : reports) {
            joules = joules.add(r.energyJoules());
            seconds = seconds.add(r.gpuSeconds());
            energy = energy.add(r.cost().energy());
            time = time.add(r.cost().gpuTime());
            estimated |= r.estimated();
        }
        UsageReport.Cost cost = currencies == 1
                ? new UsageReport.Cost(reports.getFirst().cost().currency(), energy, time, energy.add(time)) : null;
        return new UsageTotals(reports.size(), joules, seconds, cost, estimated);
    }
}
