package io.gpuagent.agent.recovery;

import static io.gpuagent.agent.recovery.Step.CORDON;
import static io.gpuagent.agent.recovery.Step.DRAIN;
import static io.gpuagent.agent.recovery.Step.INSPECT_HARDWARE;
import static io.gpuagent.agent.recovery.Step.POWER_CAP;
import static io.gpuagent.agent.recovery.Step.REQUEST_REBOOT;
import static io.gpuagent.agent.recovery.Step.RESET;
import static io.gpuagent.agent.recovery.Step.RESET_CLOCKS;

import io.gpuagent.agent.health.GpuHealth;
import io.gpuagent.agent.health.NodeHealth;
import io.gpuagent.agent.health.NodeReason;
import io.gpuagent.agent.health.Reason;
import io.gpuagent.agent.health.detect.HealthState;
import io.gpuagent.agent.health.detect.RepairAction;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Which steps answer which fault. A GPU that turns UNHEALTHY or LOST is looked up by its worst reason first:
 * by the reason's code ({@code XID_79}), else by the mildest of the reason's repair actions that has a plan
 * (what an operator tries first; escalation takes over when it does not help). Defaults in docs/faults.md#recovery-policy,
 * with one deliberate difference: a lost GPU (XID 79) gets cordon, drain, reset first, and a reboot is
 * requested only when the reset or its verification fails (the XID catalog says "drain node, reboot").
 */
public final class RecoveryPolicy {

    /** The plan for one GPU: the reason it answers and its steps, in order. */
    public record Plan(String code, String why, List<Step> steps) {
        public Plan {
            steps = List.copyOf(steps);
        }
    }

    /** The node checks' UNHEALTHY codes (docs/node-health.md#reasons); each cordons the node's GPUs by default. */
    static final List<String> NODE_CODES = List.of("NVIDIA_MODULE_NOT_LOADED", "DRIVER_VERSION_MISMATCH", "GPU_MISSING",
            "NVLINK_LINKS_MISSING", "FABRIC_NOT_STARTED", "FABRIC_FAILED", "FABRIC_UNHEALTHY",
            "FABRIC_MANAGER_NOT_RUNNING", "P2P_NVLINK_MISSING", "DEVICE_HOLDER_STUCK", "IB_PORT_MISSING", "IB_PORT_DOWN", "IB_PORT_FLAPPING");

    static final Map<String, List<Step>> DEFAULTS = defaults();

    private final Map<String, List<Step>> rules;

    public RecoveryPolicy(Map<String, String> overrides) {
        Map<String, List<Step>> r = new HashMap<>(DEFAULTS);
        overrides.forEach((key, value) -> r.put(normalise(key), parse(key, value)));
        this.rules = Map.copyOf(r);
    }

    /** The plan for {@code gpu} as judged now; empty when it is not UNHEALTHY or LOST, or no rule matches. */
    public Optional<Plan> planFor(GpuHealth gpu) {
        if (gpu.state() != HealthState.UNHEALTHY && gpu.state() != HealthState.LOST) {
            return Optional.empty();
        }
        for (Reason reason : gpu.reasons()) {
            if (reason.state() != HealthState.UNHEALTHY && reason.state() != HealthState.LOST) {
                continue;
            }
            Optional<Plan> plan = planFor(reason);
            if (plan.isPresent()) {
                return plan;
            }
        }
        return Optional.empty();
    }

    /**
     * The plan for the node as its checks judge it now: by the code of its worst UNHEALTHY reason that has a rule
     * (node reasons name no GPU, so only steps that act on every GPU, a cordon, apply). Empty when the node serves.
     */
    public Optional<Plan> planFor(NodeHealth node) {
        for (NodeReason r : node.reasons()) {
            if (r.state() != HealthState.UNHEALTHY && r.state() != HealthState.LOST) {
                continue;
            }
            List<Step> steps = rules.get(normalise(r.code()));
            if (steps != null) {
                return steps.isEmpty() ? Optional.empty() : Optional.of(new Plan(r.code(), "[" + r.check() + " "
                        + r.subject() + " " + r.code() + "] " + r.message(), steps));
            }
        }
        return Optional.empty();
    }

    Optional<Plan> planFor(Reason reason) {
        String why = "[" + reason.detector() + " " + reason.code() + "] " + reason.message();
        List<Step> byCode = rules.get(normalise(reason.code()));
        if (byCode != null) {
            return byCode.isEmpty() ? Optional.empty() : Optional.of(new Plan(reason.code(), why, byCode));
        }
        List<RepairAction> mildestFirst = reason.actions().stream().sorted().toList();
        for (RepairAction a : mildestFirst) {
            List<Step> steps = rules.get(a.label());
            if (steps != null && !steps.isEmpty()) {
                return Optional.of(new Plan(reason.code(), why, steps));
            }
        }
        return Optional.empty();
    }

    /** Every rule in force, for {@code GET /v1/recovery} and the log. */
    public Map<String, List<String>> describe() {
        Map<String, List<String>> out = new LinkedHashMap<>();
        rules.entrySet().stream().sorted(Map.Entry.comparingByKey())
                .forEach(e -> out.put(e.getKey(), e.getValue().stream().map(Step::label).toList()));
        return out;
    }

    private static Map<String, List<Step>> defaults() {
        Map<String, List<Step>> d = new HashMap<>();
        List<Step> drainReset = List.of(CORDON, DRAIN, RESET);
        d.put(RepairAction.RESET_GPU.label(), drainReset);
        d.put(RepairAction.DRAIN_AND_RESET.label(), drainReset);
        d.put(RepairAction.DRAIN_P2P.label(), drainReset);
        d.put(RepairAction.REBOOT.label(), List.of(CORDON, DRAIN, REQUEST_REBOOT));
        d.put(RepairAction.INSPECT_HARDWARE.label(), List.of(CORDON, INSPECT_HARDWARE));
        d.put(RepairAction.RECOVER_IMEX_DOMAIN.label(), List.of(CORDON));
        d.put(RepairAction.CHECK_APPLICATION.label(), List.of());
        // A lost GPU: try the reset a node operator tries first; escalation requests the reboot if it fails.
        for (String lost : List.of("XID_79", "GPU_IS_LOST", "GPU_UNAVAILABLE")) {
            d.put(normalise(lost), drainReset);
        }
        // DCGM saw memory fail (its policy): the pages retire at the reset, which the diagnostic then checks.
        d.put(normalise("DCGM_POLICY_DBE"), drainReset);
        d.put(normalise("DCGM_POLICY_MAX_PAGES_RETIRED"), drainReset);
        d.put(normalise("THERMAL_SLOWDOWN_SUSTAINED"), List.of(POWER_CAP, RESET_CLOCKS));
        d.put(normalise("MEMORY_TEMP_SUSTAINED"), List.of(POWER_CAP, RESET_CLOCKS));
        // Near shutdown: take it out of placement and draw less power now; a person checks the cooling.
        d.put(normalise("THERMAL_NEAR_SHUTDOWN"), List.of(CORDON, POWER_CAP));
        // Node checks (docs/node-health.md): the agent cannot fix a fabric, a driver install or a hung kernel call,
        // so it takes the node's GPUs out of placement and the state event notifies; a person repairs.
        for (String node : NODE_CODES) {
            d.put(normalise(node), List.of(CORDON));
        }
        return d;
    }

    static String normalise(String key) {
        return key.strip().toLowerCase(Locale.ROOT).replace('-', '_');
    }

    private static List<Step> parse(String key, String value) {
        String v = value.strip();
        if (v.isEmpty() || v.equalsIgnoreCase("none")) {
            return List.of();
        }
        try {
            List<Step> steps = new ArrayList<>();
            for (String part : Arrays.asList(v.split(","))) {
                if (!part.isBlank()) {
                    steps.add(Step.parse(part));
                }
            }
            return List.copyOf(steps);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("gpu-agent.recovery.policy." + key + "=" + value + ": " + e.getMessage()
                    + "; e.g. gpu-agent.recovery.policy.XID_48=cordon,drain,reset or =none", e);
        }
    }
}
