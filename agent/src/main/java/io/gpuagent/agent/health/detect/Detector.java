package io.gpuagent.agent.health.detect;

import io.gpuagent.exporter.GpuSample;
import io.gpuagent.nvml.GpuEvent;
import java.time.Instant;
import java.util.List;

/**
 * One row of the detector table in docs/faults.md#detectors: judges a GPU's sample (every sweep) and/or a driver event into
 * {@link Finding}s. Plain logic, no CDI: tests build samples and call it with the time they choose.
 *
 * <p>Detectors that need history (rates, windows, links that were up) keep it per GPU under the key they are
 * given (the UUID). The health engine calls them one at a time, under its lock, so that state needs no
 * synchronisation. A detector returns no finding for a reading the GPU does not report.
 */
public sealed interface Detector
        permits XidDetector, EccDetector, RemapDetector, RetiredPagesDetector, ThermalDetector, ClocksDetector,
                PcieDetector, NvLinkDetector, LostDetector, DriverDetector, DcgmDetector, HostDetector,
                InfinibandDetector, FabricDetector {

    /** The detector's name in reasons and events ({@code xid}, {@code ecc}, ...). */
    String name();

    /** Findings for one GPU's sample taken at {@code now}; {@code gpu} keys the detector's history. */
    default List<Finding> evaluate(String gpu, GpuSample sample, Instant now) {
        return List.of();
    }

    /** Findings for one driver event on GPU {@code gpu}. */
    default List<Finding> onEvent(String gpu, GpuEvent event, Instant now) {
        return List.of();
    }

    /**
     * Findings about the node and its parts (host, ports, links) at one node-check interval, each naming its
     * {@link Subject}; history is keyed by {@link Subject#key()} and dropped with {@link #forget}. A GPU
     * detector has none.
     */
    default List<NodeFinding> evaluateNode(NodeSample node, Instant now) {
        return List.of();
    }

    /**
     * Whether {@link #evaluate} wants only fresh readings (status OK). A STALE or LOST sample carries old
     * values; only the lost detector, which judges the status itself, looks at those.
     */
    default boolean needsFreshReadings() {
        return true;
    }

    /** Drops the history of a GPU (or a node subject's key) that vanished. */
    default void forget(String gpu) {
    }
}
