package io.gpuagent.agent.recovery;

import io.gpuagent.agent.lease.GpuLeases;
import io.gpuagent.exporter.GpuSample;
import io.gpuagent.exporter.MigSample;
import io.gpuagent.nvml.ProcessInfo;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The leases and processes that keep a GPU from being idle. For a GPU in MIG mode, its MIG devices' too: a lease
 * on any of its MIG devices holds the GPU, and so does a process on any of them (a reset takes every instance
 * down with the GPU).
 *
 * @param leases    every live lease on the GPU or on one of its MIG devices
 * @param pids      the processes the latest readings list on the GPU and on its MIG devices
 * @param migMode   the GPU is in MIG mode (what is said names its MIG devices)
 */
record Busy(List<GpuLeases.Held> leases, List<Long> pids, boolean migMode) {

    Busy {
        leases = List.copyOf(leases);
        pids = List.copyOf(pids);
    }

    /** What holds {@code gpu} (null: not in the latest readings, so no process is known) given its leases. */
    static Busy of(GpuSample gpu, List<GpuLeases.Held> leases) {
        if (gpu == null) {
            return new Busy(leases, List.of(), false);
        }
        Set<Long> pids = new LinkedHashSet<>();
        gpu.processes().forEach(p -> pids.add((long) p.pid()));
        for (MigSample m : gpu.migDevices()) {
            for (ProcessInfo p : m.processes()) {
                pids.add((long) p.pid());
            }
        }
        return new Busy(leases, List.copyOf(pids), gpu.migEnabled() || !gpu.migDevices().isEmpty());
    }

    boolean idle() {
        return leases.isEmpty() && pids.isEmpty();
    }

    String describe() {
        List<String> parts = new ArrayList<>();
        String on = migMode ? " (on its MIG devices or the GPU)" : "";
        for (GpuLeases.Held l : leases) {
            parts.add("leased by job " + l.jobId() + " (lease " + l.leaseId() + ")" + on);
        }
        if (!pids.isEmpty()) {
            parts.add("NVML reports processes " + pids + on);
        }
        return parts.isEmpty() ? "idle" : String.join(", ", parts);
    }
}
