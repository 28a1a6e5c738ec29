package io.gpuagent.agent.usage;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/** {@code gpu-agent.cost.*}: what a lease's usage costs (docs/usage.md#cost). */
@ConfigMapping(prefix = "gpu-agent.cost")
public interface CostConfig {

    /** Price of one kWh of GPU energy, in {@link #currency()}. */
    @WithDefault("0")
    BigDecimal energyPrice();

    /**
     * Price of one GPU-hour by GPU model, the name NVML reports ({@code /v1/gpus} "name"), quoted in a
     * properties file because it has spaces: {@code gpu-agent.cost.gpu-hour."NVIDIA H100 80GB HBM3"=2.10}.
     * The key {@code default} prices models not listed; without it they cost 0 per hour.
     */
    Map<String, BigDecimal> gpuHour();

    /** The currency the prices are in (any label; ISO 4217 codes are usual). */
    @WithDefault("USD")
    String currency();

    /**
     * A properties file with the same keys without the {@code gpu-agent.cost.} prefix ({@code energy-price},
     * {@code currency}, {@code gpu-hour.<model>}); when set it replaces the keys above, and the agent reads it
     * again whenever it changes: new prices apply from that moment on, never to time already accounted.
     */
    Optional<Path> pricesFile();
}
