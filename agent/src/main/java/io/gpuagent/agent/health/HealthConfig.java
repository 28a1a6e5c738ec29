package io.gpuagent.agent.health;

import io.gpuagent.agent.health.detect.XidClass;
import io.gpuagent.agent.health.detect.XidScope;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.Map;

/** {@code gpu-agent.health.*}: thresholds of the detectors (docs/faults.md#detectors). docs/configuration.md#health-healthconfig lists them. */
@ConfigMapping(prefix = "gpu-agent.health")
public interface HealthConfig {

    /**
     * How long a reason must have been absent before it is dropped and the GPU may return to a better state
     * (a condition raises at once). Sticky reasons (fatal XIDs, pending remaps, ...) wait for a clear instead.
     */
    @WithDefault("60s")
    Duration hysteresis();

    /** DEGRADED when the GPU temperature is within this many degrees Celsius below its slowdown threshold. */
    @WithDefault("5")
    int thermalMargin();

    /**
     * UNHEALTHY at once when the GPU temperature is within this many degrees Celsius below its shutdown
     * threshold (the driver powers the GPU off there).
     */
    @WithDefault("1")
    int shutdownMargin();

    /** UNHEALTHY when the GPU stays at or above its slowdown threshold this long (DEGRADED before that). */
    @WithDefault("30s")
    Duration thermalWindow();

    /** DEGRADED when HW slowdown, HW power brake or thermal slowdown hold the clocks down this long. */
    @WithDefault("30s")
    Duration clocksWindow();

    /** Error rates are a counter's increase over this sliding window (ECC corrected, PCIe replays, NVLink). */
    @WithDefault("5m")
    Duration rateWindow();

    /**
     * Repeats of a warning-class XID on one GPU within this window are summed up in one event instead of one
     * event each (the first is recorded at once; gpu_agent_xid_errors_total counts every one).
     */
    @WithDefault("60s")
    Duration xidRepeatWindow();

    /** DEGRADED above this many corrected (single-bit) ECC errors per hour. */
    @WithDefault("100")
    double eccCorrectedPerHour();

    /** UNHEALTHY when more pages than this are retired (single- plus double-bit). */
    @WithDefault("10")
    int retiredPagesLimit();

    /** DEGRADED above this many PCIe replays per minute (DCGM's limit). */
    @WithDefault("8")
    double pcieReplaysPerMinute();

    /** DEGRADED above this many NVLink replay plus recovery errors per minute (DCGM's limit). */
    @WithDefault("1")
    double nvlinkErrorsPerMinute();

    /** DEGRADED above this many NVLink CRC (flit plus data) errors per second (DCGM's limit). */
    @WithDefault("100")
    double nvlinkCrcErrorsPerSecond();

    /**
     * Class of an XID code, overriding the table in docs/faults.md#xid-classes: {@code gpu-agent.health.xid-class.13=fatal}.
     * Classes: {@code fatal} (UNHEALTHY until cleared), {@code lost} (LOST until cleared), {@code warning}
     * (DEGRADED for the hysteresis window), {@code ignore} (counted and logged only).
     */
    Map<String, XidClass> xidClass();

    /**
     * Where an XID lands on a GPU in MIG mode, overriding the table in docs/faults.md#mig:
     * {@code gpu-agent.health.xid-scope.31=gpu}. Scopes: {@code instance} (the MIG device the driver's event
     * names, not its siblings) and {@code gpu} (the whole GPU and every MIG device on it). Lost-class XIDs are
     * always the GPU's.
     */
    Map<String, XidScope> xidScope();
}
