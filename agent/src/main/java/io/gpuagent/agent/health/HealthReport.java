package io.gpuagent.agent.health;

import io.gpuagent.agent.OneLine;
import io.gpuagent.agent.health.detect.HealthState;
import io.gpuagent.exporter.Snapshot;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The body of {@code GET /health}. {@code healthy} decides the status code (200 or 503); {@code reason} is
 * one line a node check can pass on as a drain reason (Slurm's HealthCheckProgram, cron): built from what GPUs,
 * MIG devices, the driver and operators said, so it leaves here through {@link OneLine} (no control, format or
 * line-separator character, at most {@link #REASON_MAX} characters). MIG devices are listed under their GPU
 * ({@link GpuHealth#migDevices()}); one that is not serving makes the node unhealthy as a GPU does.
 */
public record HealthReport(boolean healthy, String status, String reason, Instant time, Nvml nvml, Sampling sampling,
                           List<Problem> problems, List<GpuHealth> gpus, NodeHealth node) {

    /** Slurm shows a reason cut to 250 characters; the rest is for a person reading /health. */
    public static final int REASON_MAX = 1000;

    public HealthReport {
        reason = OneLine.of(reason, REASON_MAX);
    }

    /** A report without the node checks' verdict ({@code node} null: not judged here). */
    public HealthReport(boolean healthy, String status, String reason, Instant time, Nvml nvml, Sampling sampling,
                        List<Problem> problems, List<GpuHealth> gpus) {
        this(healthy, status, reason, time, nvml, sampling, problems, gpus, null);
    }

    /**
     * This report with the node's verdict (docs/node-health.md): a node check UNHEALTHY makes it unhealthy (503)
     * as a GPU does, and the reason names each failing check first ({@code node kernel_module: ...}).
     */
    public HealthReport withNode(NodeHealth n) {
        List<String> why = new ArrayList<>();
        for (NodeReason r : n.reasons()) {
            if (!r.state().serving()) {
                why.add("node " + r.check() + (r.subject().equals("node") ? "" : " " + r.subject()) + " " + r.state()
                        + ": " + r.message());
            }
        }
        if (reason != null) {
            why.add(reason);
        }
        HealthState nodeState = n.state() == HealthState.INITIALIZING ? HealthState.HEALTHY : n.state();
        boolean ok = healthy && nodeState.serving();
        String st = status;
        if (!"unhealthy".equals(status) && !nodeState.serving()) {
            st = nodeState.name().toLowerCase();
        } else if ("healthy".equals(status) && nodeState == HealthState.DEGRADED) {
            st = "degraded";
        }
        return new HealthReport(ok, st, why.isEmpty() ? null : String.join("; ", why), time, nvml, sampling, problems,
                gpus, n);
    }

    /** Something wrong with the agent or the host rather than one GPU. */
    public record Problem(String component, String message) {
    }

    public record Nvml(boolean up, String library, String driverVersion, int gpus) {
    }

    public record Sampling(long sequence, Instant takenAt, double ageSeconds) {
    }

    /** This report with the agent's own problems {@code more} added (a failed journal): unhealthy, 503. */
    public HealthReport withProblems(List<Problem> more) {
        if (more.isEmpty()) {
            return this;
        }
        List<Problem> all = new ArrayList<>(problems);
        all.addAll(more);
        List<String> why = new ArrayList<>();
        more.forEach(p -> why.add(p.component() + ": " + p.message()));
        if (reason != null) {
            why.add(reason);
        }
        return new HealthReport(false, "unhealthy", String.join("; ", why), time, nvml, sampling, List.copyOf(all), gpus,
                node);
    }

    static HealthReport of(Instant now, Snapshot snapshot, String library, List<Problem> problems, List<GpuHealth> gpus) {
        List<String> why = new ArrayList<>();
        problems.forEach(p -> why.add(p.component() + ": " + p.message()));
        HealthState worst = HealthState.HEALTHY;
        for (GpuHealth g : gpus) {
            worst = worst.worst(g.state());
            if (!g.state().serving()) {
                why.add("GPU " + g.index() + " (" + g.uuid() + ") " + g.state() + ": "
                        + (g.reasons().isEmpty() ? "no reason recorded" : g.reasons().getFirst().message()));
            }
            for (MigHealth m : g.migDevices()) {
                worst = worst.worst(m.state());
                // A MIG device is named for its own reasons: its GPU's line above already says what they share.
                if (!m.ownState().serving()) {
                    why.add("MIG device " + m.address() + " (" + m.uuid() + ") " + m.ownState() + ": "
                            + (m.reasons().isEmpty() ? "no reason recorded" : m.reasons().getFirst().message()));
                }
            }
        }
        boolean healthy = problems.isEmpty() && worst.serving();
        String status = !problems.isEmpty() ? "unhealthy" : worst.name().toLowerCase();
        double age = snapshot.age(now).toNanos() / 1e9;
        return new HealthReport(healthy, status, why.isEmpty() ? null : String.join("; ", why), now,
                new Nvml(snapshot.nvmlUp(), library, snapshot.driverVersion(), snapshot.deviceCount()),
                new Sampling(snapshot.sequence(), snapshot.takenAt(), age), List.copyOf(problems), gpus);
    }
}
