package io.gpuagent.agent.health;

import io.gpuagent.agent.health.detect.XidClass;
import io.gpuagent.agent.health.detect.XidScope;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.nio.file.Path;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.OptionalInt;

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

    /**
     * How many GPUs this node should have: fewer is the node fault GPU_MISSING. Unset, the count of the first
     * healthy start is learned and kept in the state directory ({@code expected-topology.properties}).
     */
    OptionalInt expectedGpus();

    /** The node checks (docs/node-health.md). */
    Node node();

    /** The InfiniBand/RoCE checks (docs/node-health.md#infiniband). */
    Ib ib();

    /** The NVLink fabric checks (docs/node-health.md#nvlink-fabric). */
    NvLink nvlink();

    interface NvLink {
        /**
         * Active NVLink links every GPU should have (18 on an H100 SXM); fewer is NVLINK_LINKS_MISSING. Unset: the
         * fewest any GPU had at the first healthy start with NVLink, learned as {@code expected-gpus} is.
         */
        OptionalInt expectedLinks();
    }

    interface Node {
        /** Whether the node checks run (off: /health/node stays INITIALIZING, nothing is read). */
        @WithDefault("true")
        boolean enabled();

        /** How often the host is read and the node judged (on its own thread, not per scrape). */
        @WithDefault("30s")
        Duration interval();

        /** A host read that takes longer than this is abandoned and reported (a hung /proc or /sys read). */
        @WithDefault("10s")
        Duration deadline();

        /** Where {@code proc/} and {@code sys/} are read from; {@code /} on a host, a fixture tree in tests. */
        @WithDefault("/")
        Path root();

        /** A process in D state holding a /dev/nvidia* file this long is a hung driver call (UNHEALTHY). */
        @WithDefault("5m")
        Duration holderLimit();

        /** DEGRADED when the state directory's file system has fewer MiB than this left. */
        @WithDefault("256")
        long stateDirMinFreeMib();
    }

    interface Ib {
        /** How many InfiniBand/RoCE ports the node should have (e.g. 8); unset: not checked. */
        OptionalInt expectedPorts();

        /** The rate every port should run at, in Gb/s (e.g. 400); unset: not checked. */
        OptionalDouble expectedRateGbps();

        /** A port that went down {@link #flapLimit} times within this window is flapping. */
        @WithDefault("10m")
        Duration flapWindow();

        @WithDefault("3")
        int flapLimit();

        /** DEGRADED above this many symbol errors per minute on a port (over the rate window). */
        @WithDefault("10")
        double symbolErrorsPerMinute();

        /** DEGRADED above this many receive errors per minute on a port. */
        @WithDefault("10")
        double rcvErrorsPerMinute();

        /** DEGRADED above this many link error recoveries per minute on a port. */
        @WithDefault("1")
        double linkRecoveriesPerMinute();
    }
}
