package io.gpuagent.agent.usage;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;

/** {@code gpu-agent.usage.*}: per-lease usage accounting (docs/usage.md, docs/configuration.md). */
@ConfigMapping(prefix = "gpu-agent.usage")
public interface UsageConfig {

    /** Days an ended lease's usage is kept in {@code usage.jsonl} (and answered by the API). */
    @WithDefault("90")
    int retention();

    /** GPU utilisation (percent, 0..100) below which a leased GPU's time counts as idle. */
    @WithDefault("5")
    double idleThreshold();

    /**
     * How often the live leases' running totals are journaled: after an agent crash at most this much of the
     * power, activity and idle readings is lost (the energy counter itself carries across).
     */
    @WithDefault("30s")
    Duration checkpointInterval();

    /** {@code usage.jsonl} is rewritten to the kept records once it has more lines than this. */
    @WithDefault("20000")
    long compactAtLines();

    /**
     * The most ended leases kept (the oldest go first), whatever the retention: bounds memory (an ended lease is
     * held in memory as its totals, some 0.5 KB whatever its GPUs; its per-device detail is read back from the
     * file when asked for) and the file.
     */
    @WithDefault("10000")
    int maxEnded();
}
