package io.gpuagent.agent.usage;

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
 */
public record LeaseUsage(String leaseId, String jobId, String node, Instant grantedAt, Instant endedAt,
                         Instant savedAt, String currency, List<GpuUsage> gpus, List<Gap> unobserved) {

    public LeaseUsage {
        node = node == null ? null : node.intern();
        currency = currency == null ? null : currency.intern();
        gpus = List.copyOf(gpus);
        unobserved = unobserved == null ? List.of() : List.copyOf(unobserved);
    }

    /** A stretch of a lease the agent did not observe, and why. */
    public record Gap(Instant from, Instant to, String why) {
    }
}
