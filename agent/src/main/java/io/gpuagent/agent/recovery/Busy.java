package io.gpuagent.agent.recovery;

import io.gpuagent.agent.lease.GpuLeases;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The lease and processes that keep a GPU from being idle. */
record Busy(Optional<GpuLeases.Held> lease, List<Long> pids) {

    boolean idle() {
        return lease.isEmpty() && pids.isEmpty();
    }

    String describe() {
        List<String> parts = new ArrayList<>();
        lease.ifPresent(l -> parts.add("leased by job " + l.jobId() + " (lease " + l.leaseId() + ")"));
        if (!pids.isEmpty()) {
            parts.add("NVML reports processes " + pids);
        }
        return parts.isEmpty() ? "idle" : String.join(", ", parts);
    }
}
