package io.gpuagent.agent.recovery;

import static io.gpuagent.agent.recovery.Step.CORDON;
import static io.gpuagent.agent.recovery.Step.DRAIN;
import static io.gpuagent.agent.recovery.Step.INSPECT_HARDWARE;
import static io.gpuagent.agent.recovery.Step.POWER_CAP;
import static io.gpuagent.agent.recovery.Step.REQUEST_REBOOT;
import static io.gpuagent.agent.recovery.Step.RESET;
import static io.gpuagent.agent.recovery.Step.RESET_CLOCKS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.agent.health.GpuHealth;
import io.gpuagent.agent.health.NodeHealth;
import io.gpuagent.agent.health.NodeReason;
import io.gpuagent.agent.health.Reason;
import io.gpuagent.agent.health.detect.HealthState;
import io.gpuagent.agent.health.detect.RepairAction;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Which steps answer which fault: docs/faults.md's defaults, the XID 79 choice, and configured overrides. */
class RecoveryPolicyTest {

    private static final Instant T = Instant.parse("2025-01-01T00:00:00Z");

    @Test
    void anUnhealthyNodeCheckCordonsByItsCodeAndAnOverrideTurnsItOff() {
        NodeReason rate = new NodeReason("ib_rate", "ib_port:mlx5_5/1", "infiniband", "IB_PORT_RATE", HealthState.DEGRADED,
                "slow", "reseat", List.of(RepairAction.INSPECT_HARDWARE), false, T, T, 1);
        NodeReason down = new NodeReason("ib_ports", "ib_port:mlx5_3/1", "infiniband", "IB_PORT_DOWN",
                HealthState.UNHEALTHY, "port mlx5_3/1 is DOWN", "check the cable", List.of(RepairAction.INSPECT_HARDWARE),
                false, T, T, 1);
        NodeHealth node = new NodeHealth(HealthState.UNHEALTHY, T, T, List.of(), List.of(down, rate));
        RecoveryPolicy.Plan plan = new RecoveryPolicy(Map.of()).planFor(node).orElseThrow();
        assertEquals(List.of(CORDON), plan.steps());
        assertEquals("[ib_ports ib_port:mlx5_3/1 IB_PORT_DOWN] port mlx5_3/1 is DOWN", plan.why());
        assertEquals(Optional.empty(), new RecoveryPolicy(Map.of("IB_PORT_DOWN", "none")).planFor(node));
        assertEquals(Optional.empty(), new RecoveryPolicy(Map.of()).planFor(new NodeHealth(HealthState.DEGRADED, T, T,
                List.of(), List.of(rate))), "a DEGRADED node keeps its GPUs in placement");
    }

    @Test
    void aLostGpuIsDrainedAndResetFirst() {
        RecoveryPolicy p = new RecoveryPolicy(Map.of());
        assertEquals(List.of(CORDON, DRAIN, RESET), steps(p, gpu(HealthState.LOST,
                reason("xid", "XID_79", HealthState.LOST, RepairAction.REBOOT))));
        assertEquals(List.of(CORDON, DRAIN, RESET), steps(p, gpu(HealthState.LOST,
                reason("lost", "GPU_IS_LOST", HealthState.LOST, RepairAction.REBOOT))));
    }

    @Test
    void otherFaultsFollowTheirMildestRepairAction() {
        RecoveryPolicy p = new RecoveryPolicy(Map.of());
        assertEquals(List.of(CORDON, DRAIN, RESET), steps(p, gpu(HealthState.UNHEALTHY,
                reason("xid", "XID_64", HealthState.UNHEALTHY, RepairAction.DRAIN_AND_RESET, RepairAction.INSPECT_HARDWARE))));
        assertEquals(List.of(CORDON, DRAIN, REQUEST_REBOOT), steps(p, gpu(HealthState.UNHEALTHY,
                reason("xid", "XID_143", HealthState.UNHEALTHY, RepairAction.REBOOT, RepairAction.INSPECT_HARDWARE))));
        assertEquals(List.of(POWER_CAP, RESET_CLOCKS), steps(p, gpu(HealthState.UNHEALTHY,
                reason("thermal", "THERMAL_SLOWDOWN_SUSTAINED", HealthState.UNHEALTHY, RepairAction.INSPECT_HARDWARE))));
        assertEquals(List.of(CORDON, INSPECT_HARDWARE), steps(p, gpu(HealthState.UNHEALTHY,
                reason("nvlink", "NVLINK_DOWN", HealthState.UNHEALTHY, RepairAction.INSPECT_HARDWARE))));
    }

    @Test
    void onlyUnhealthyOrLostGpusGetAPlanAndTheWorstReasonWithAPlanWins() {
        RecoveryPolicy p = new RecoveryPolicy(Map.of());
        assertTrue(p.planFor(gpu(HealthState.DEGRADED, reason("xid", "XID_13", HealthState.DEGRADED,
                RepairAction.CHECK_APPLICATION))).isEmpty());
        GpuHealth two = gpu(HealthState.UNHEALTHY,
                reason("ecc", "ECC_WARN", HealthState.DEGRADED, RepairAction.RESET_GPU),
                reason("remap", "REMAP_FAILURE", HealthState.UNHEALTHY, RepairAction.DRAIN_AND_RESET));
        RecoveryPolicy.Plan plan = p.planFor(two).orElseThrow();
        assertEquals("REMAP_FAILURE", plan.code());
        assertTrue(plan.why().contains("REMAP_FAILURE"), plan.why());
    }

    @Test
    void overridesReplaceOrDisableRules() {
        RecoveryPolicy p = new RecoveryPolicy(Map.of("XID_79", "cordon, request-reboot", "drain_and_reset", "none"));
        assertEquals(List.of(CORDON, REQUEST_REBOOT), steps(p, gpu(HealthState.LOST,
                reason("xid", "XID_79", HealthState.LOST, RepairAction.REBOOT))));
        assertTrue(p.planFor(gpu(HealthState.UNHEALTHY,
                reason("xid", "XID_48", HealthState.UNHEALTHY, RepairAction.DRAIN_AND_RESET))).isEmpty());
        assertEquals(List.of("cordon", "request_reboot"), p.describe().get("xid_79"));

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new RecoveryPolicy(Map.of("XID_48", "cordon,explode")));
        assertTrue(e.getMessage().contains("gpu-agent.recovery.policy.XID_48") && e.getMessage().contains("explode"),
                e.getMessage());
    }

    private static List<Step> steps(RecoveryPolicy p, GpuHealth g) {
        Optional<RecoveryPolicy.Plan> plan = p.planFor(g);
        return plan.orElseThrow(() -> new AssertionError("no plan for " + g)).steps();
    }

    private static GpuHealth gpu(HealthState state, Reason... reasons) {
        return new GpuHealth(1, "GPU-1", "H100", state, T, List.of(reasons));
    }

    private static Reason reason(String detector, String code, HealthState state, RepairAction... actions) {
        return new Reason(detector, code, state, code + " happened", "fix it", List.of(actions), true, T, T, 1);
    }
}
