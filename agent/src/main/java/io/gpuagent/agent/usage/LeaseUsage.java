package io.gpuagent.agent.usage;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;

/**
 * One lease's usage, one line of {@code usage.jsonl}: a checkpoint while it runs ({@code endedAt} null), its final
 * totals once it ended. The last line of a lease wins on replay.
 *
 * @param node       the node's name (gpu-agent.hostname), so that sums across nodes can say where
 * @param endedAt    when the lease ended (released, expired or ended by the agent); null while it runs
 * @param savedAt    when this line was written
 * @param currency   the currency of the prices in the segments
 * @param unobserved stretches the agent did not see (it was down): usage there is partly estimated
 * @param totals     an ended lease's line only: its report's totals, written with the line so that a start reads
 *                   them without the per-device detail; null on checkpoints and on lines of older versions
 */
@JsonPropertyOrder({"leaseId", "jobId", "node", "grantedAt", "endedAt", "savedAt", "currency", "unobserved", "totals",
        "gpus"})   // the per-device detail last: a start reads an ended lease's line up to it (UsageJournal)
public record LeaseUsage(String leaseId, String jobId, String node, Instant grantedAt, Instant endedAt,
                         Instant savedAt, String currency, List<GpuUsage> gpus, List<Gap> unobserved,
                         Totals totals) {

    /** Without {@code totals}: what the ledger holds (the journal adds them to an ended lease's line). */
    public LeaseUsage(String leaseId, String jobId, String node, Instant grantedAt, Instant endedAt, Instant savedAt,
                      String currency, List<GpuUsage> gpus, List<Gap> unobserved) {
        this(leaseId, jobId, node, grantedAt, endedAt, savedAt, currency, gpus, unobserved, null);
    }

    public LeaseUsage {
        node = node == null ? null : node.intern();
        currency = currency == null ? null : currency.intern();
        gpus = List.copyOf(gpus);
        unobserved = unobserved == null ? List.of() : List.copyOf(unobserved);
    }

    /** This lease with {@code totals}: its report's, once it ended (a checkpoint's change with every sweep). */
    LeaseUsage withTotals() {
        if (endedAt == null) {
            return this;
        }
        UsageReport r = UsageReport.of(this, endedAt);
        return new LeaseUsage(leaseId, jobId, node, grantedAt, endedAt, savedAt, currency, gpus, unobserved,
                new Totals(r.energyJoules(), r.gpuSeconds(), r.cost().energy(), r.cost().gpuTime(),
                        r.estimatedBecause()));
    }

    /**
     * An ended lease's report totals ({@link UsageReport}): with its other fields they are its summary, so that
     * the journal's load need not read the per-device detail nor compute the money again.
     */
    public record Totals(BigDecimal energyJoules, BigDecimal gpuSeconds, BigDecimal energyCost, BigDecimal gpuTimeCost,
                         List<String> estimatedBecause) {
        public Totals {
            // The same few sentences on thousands of ended leases: one copy of each.
            estimatedBecause = estimatedBecause == null ? null : estimatedBecause.stream().map(String::intern).toList();
        }
    }

    /** A stretch of a lease the agent did not observe, and why. */
    public record Gap(Instant from, Instant to, String why) {
    }
}
