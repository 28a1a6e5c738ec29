package io.gpuagent.agent.kubernetes;

import io.gpuagent.agent.health.GpuHealth;
import io.gpuagent.agent.health.MigHealth;
import io.gpuagent.agent.health.Reason;
import io.gpuagent.agent.health.detect.HealthState;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * What the node's {@code GpuHealthy} condition and the taint say about the GPUs now, from the health model's
 * judgement: {@code False} while any GPU or MIG device is UNHEALTHY or LOST, {@code Unknown} while the agent reads
 * no GPU (or all are still initializing), {@code True} otherwise; the taint while any device is in one of the
 * tainting states.
 *
 * @param status  {@code True}, {@code False} or {@code Unknown}
 * @param reason  CamelCase, as Kubernetes condition reasons are
 * @param message the devices that are not serving and why, at most {@link Text#MESSAGE_MAX} characters
 * @param taint   the taint's value while the node must be tainted: the worst tainting state ({@code LOST}, {@code UNHEALTHY})
 */
record GpuVerdict(String status, String reason, String message, Optional<String> taint) {

    static GpuVerdict of(List<GpuHealth> gpus, Set<HealthState> taintStates) {
        if (gpus.isEmpty()) {
            return new GpuVerdict("Unknown", "NoGpuReadings", "the agent reads no GPU (is the NVIDIA driver loaded?); "
                    + "see the agent's /health", Optional.empty());
        }
        if (gpus.stream().allMatch(g -> g.state() == HealthState.INITIALIZING)) {
            return new GpuVerdict("Unknown", "GpusInitializing", gpus.size() + " GPUs are being read for the first time",
                    Optional.empty());
        }
        List<String> bad = new ArrayList<>();
        List<String> degraded = new ArrayList<>();
        HealthState worst = HealthState.HEALTHY;
        HealthState taint = null;
        for (GpuHealth g : gpus) {
            if (!g.state().serving() && g.state() != HealthState.INITIALIZING) {
                bad.add(describe("GPU " + g.index(), g.uuid(), g.state(), g.reasons()));
                worst = worst.worst(g.state());
            } else if (g.state() == HealthState.DEGRADED) {
                degraded.add(describe("GPU " + g.index(), g.uuid(), g.state(), g.reasons()));
            }
            if (taintStates.contains(g.state())) {
                taint = taint == null ? g.state() : taint.worst(g.state());
            }
            for (MigHealth m : g.migDevices()) {
                // A MIG device that only follows its GPU's fault is named with the GPU; its own faults are named here.
                HealthState own = m.ownState();
                if (!own.serving() && own != HealthState.INITIALIZING) {
                    bad.add(describe("MIG " + m.address(), m.uuid(), own, m.reasons()));
                    worst = worst.worst(own);
                }
                if (taintStates.contains(m.state())) {
                    taint = taint == null ? m.state() : taint.worst(m.state());
                }
            }
        }
        // The worst tainting state, not a reason code: it stays the same while reasons come and go, so the taint
        // is written when the node's standing changes, not on every new XID; the condition's message says why.
        Optional<String> t = Optional.ofNullable(taint).map(HealthState::name);
        if (!bad.isEmpty()) {
            return new GpuVerdict("False", "Gpu" + camel(worst), Text.bounded(String.join("; ", bad), Text.MESSAGE_MAX), t);
        }
        String ok = gpus.size() + " GPU" + (gpus.size() == 1 ? "" : "s") + " serving"
                + (degraded.isEmpty() ? "" : "; degraded: " + String.join("; ", degraded));
        return new GpuVerdict("True", degraded.isEmpty() ? "GpusHealthy" : "GpusDegraded",
                Text.bounded(ok, Text.MESSAGE_MAX), t);
    }

    private static String describe(String name, String uuid, HealthState state, List<Reason> reasons) {
        String why = reasons.isEmpty() ? "" : ": " + reasons.getFirst().code() + " (" + reasons.getFirst().message() + ")"
                + (reasons.size() > 1 ? " and " + (reasons.size() - 1) + " more" : "");
        return name + " " + uuid + " " + state + why;
    }

    private static String camel(HealthState s) {
        String n = s.name().toLowerCase(Locale.ROOT);
        return Character.toUpperCase(n.charAt(0)) + n.substring(1);
    }
}
