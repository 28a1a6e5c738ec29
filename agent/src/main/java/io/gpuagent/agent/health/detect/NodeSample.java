package io.gpuagent.agent.health.detect;

import io.gpuagent.agent.host.HostSample;
import io.gpuagent.exporter.Snapshot;
import java.util.OptionalInt;

/**
 * What the node checks judge at one interval: the host as read ({@link HostSample}), the GPUs' latest snapshot
 * (driver version, GPU count, persistence mode, NVLink links), and the expected GPU count and active NVLink links
 * per GPU (configured, or learned at the first healthy start; empty when neither).
 */
public record NodeSample(HostSample host, Snapshot snapshot, OptionalInt expectedGpus, OptionalInt expectedNvLinks) {

    /** A sample without an expected NVLink link count (not judged). */
    public NodeSample(HostSample host, Snapshot snapshot, OptionalInt expectedGpus) {
        this(host, snapshot, expectedGpus, OptionalInt.empty());
    }
}
