package io.gpuagent.agent.recovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.nvml.NvmlException;
import io.gpuagent.nvml.NvmlReturn;
import io.quarkus.runtime.configuration.DurationConverter;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Enforce mode's start-up check names the privilege or command the policy needs and the agent lacks, and a
 * step refused for lack of privilege is rejected with the fix, and never counts toward escalation.
 */
class PrivilegeTest {

    private static final long NONE = 0;
    private static final long ADMIN = 1L << 21;
    private static final long KILL = 1L << 5;

    @Test
    void theDefaultPolicyNeedsCapSysAdminAndItsResetCommand() {
        List<String> missing = PrivilegeCheck.missing(config(Map.of()), NONE, program -> false);
        assertEquals(2, missing.size(), missing.toString());
        assertTrue(missing.get(0).contains("reset, power_cap") && missing.get(0).contains("CAP_SYS_ADMIN")
                && missing.get(0).contains("enforce.conf"), missing.get(0));
        assertTrue(missing.get(1).contains("reset-command runs 'nvidia-smi'"), missing.get(1));
        assertTrue(PrivilegeCheck.missing(config(Map.of()), ADMIN, program -> true).isEmpty());
    }

    @Test
    void withThePrivilegedSocketTheAgentNeedsTheSocketNotCapSysAdminNorTheResetCommand(@TempDir Path dir) throws Exception {
        Path socket = dir.resolve("privileged.sock");
        RecoveryConfig c = config(Map.of("gpu-agent.recovery.privileged-socket", socket.toString()));
        List<String> missing = PrivilegeCheck.missing(c, NONE, program -> false);
        assertEquals(1, missing.size(), missing.toString());
        assertTrue(missing.getFirst().contains("reset, power_cap") && missing.getFirst().contains("go through gpu-agent-privileged")
                && missing.getFirst().contains(socket + " does not exist")
                && missing.getFirst().contains("gpu-agent-privileged.socket"), missing.getFirst());
        Files.writeString(socket, "");
        assertTrue(PrivilegeCheck.missing(c, NONE, program -> false).getFirst().contains("is not a socket"));
        Files.delete(socket);
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            assertEquals(List.of(), PrivilegeCheck.missing(c, NONE, program -> false));
            // terminate still needs the agent's own CAP_KILL: the helper does not signal processes.
            RecoveryConfig terminating = config(Map.of("gpu-agent.recovery.privileged-socket", socket.toString(),
                    "gpu-agent.recovery.drain-on-deadline", "terminate"));
            List<String> noKill = PrivilegeCheck.missing(terminating, NONE, program -> true);
            assertEquals(1, noKill.size(), noKill.toString());
            assertTrue(noKill.getFirst().contains("CAP_KILL"), noKill.getFirst());
        }
    }

    @Test
    void terminatingOnTheDrainDeadlineNeedsCapKillAndTheDrainCommand() {
        RecoveryConfig c = config(Map.of("gpu-agent.recovery.drain-on-deadline", "terminate",
                "gpu-agent.recovery.drain-command", "/nonexistent/scontrol update NodeName={node} State=DRAIN"));
        List<String> missing = PrivilegeCheck.missing(c, ADMIN, PrivilegeCheck::onPath);
        assertTrue(missing.stream().anyMatch(m -> m.contains("CAP_KILL")), missing.toString());
        assertTrue(missing.stream().anyMatch(m -> m.contains("drain-command runs '/nonexistent/scontrol'")), missing.toString());
        assertTrue(PrivilegeCheck.missing(c, ADMIN | KILL, program -> true).isEmpty());
    }

    @Test
    void aPolicyWithoutResetsOrNvmlWritesNeedsNoCapability() {
        RecoveryConfig c = config(Map.ofEntries(Map.entry("gpu-agent.recovery.policy.reset_gpu", "cordon"),
                Map.entry("gpu-agent.recovery.policy.drain_and_reset", "cordon"),
                Map.entry("gpu-agent.recovery.policy.drain_p2p", "cordon"),
                Map.entry("gpu-agent.recovery.policy.xid_79", "cordon"),
                Map.entry("gpu-agent.recovery.policy.gpu_is_lost", "cordon"),
                Map.entry("gpu-agent.recovery.policy.gpu_unavailable", "cordon"),
                Map.entry("gpu-agent.recovery.policy.thermal_slowdown_sustained", "none"),
                Map.entry("gpu-agent.recovery.policy.memory_temp_sustained", "none"),
                Map.entry("gpu-agent.recovery.policy.thermal_near_shutdown", "cordon"),
                Map.entry("gpu-agent.recovery.policy.dcgm_policy_dbe", "cordon"),
                Map.entry("gpu-agent.recovery.policy.dcgm_policy_max_pages_retired", "cordon")));
        assertTrue(PrivilegeCheck.missing(c, NONE, program -> false).isEmpty(),
                PrivilegeCheck.missing(c, NONE, program -> false).toString());
    }

    @Test
    void aCommandRefusedForLackOfPrivilegeIsRejectedWithTheFix() throws Exception {
        Commands.Outcome denied = Commands.execute(List.of("sh", "-c",
                "echo 'Unable to reset this GPU: Insufficient Permissions' >&2; exit 4"), Duration.ofSeconds(10));
        StepOutcome o = StepOutcome.of("reset command", denied);
        assertEquals(Result.REJECTED, o.result(), o.detail());
        assertTrue(o.detail().contains("enforce.conf") && o.detail().contains("Insufficient Permissions"), o.detail());

        Commands.Outcome broken = Commands.execute(List.of("sh", "-c", "echo 'GPU is busy' >&2; exit 3"), Duration.ofSeconds(10));
        assertEquals(Result.FAILED, StepOutcome.of("reset command", broken).result());
        assertEquals(Result.REJECTED, StepOutcome.of("reboot command", new Commands.Outcome(126, false, "", 1)).result());
    }

    @Test
    void nvmlNoPermissionIsAPrivilegeProblem() {
        var e = new NvmlWrites.NoPermission("setting the power limit: NVML says NO_PERMISSION",
                new NvmlException(NvmlReturn.NO_PERMISSION.code(), "nvmlDeviceSetPowerManagementLimit"));
        assertTrue(Privilege.deniedBy(new RuntimeException(e)).orElseThrow().contains("NO_PERMISSION"));
        assertTrue(Privilege.deniedBy(new NvmlWrites.Refused("NOT_SUPPORTED on this GPU", null)).isEmpty());
    }

    @Test
    void aRejectedResetNeverCountsTowardEscalation() {
        Escalation escalation = new Escalation(1, 1);
        Trigger trigger = Trigger.policy("XID_79");
        for (int i = 0; i < 3; i++) {
            escalation.record(new ActionRecord(0, Instant.now(), "a" + i, ActionKind.RECOVER, Step.RESET, 0, "GPU-0",
                    trigger, "xid 79", Result.REJECTED, 5L, "reset command was refused for lack of privilege"));
        }
        List<Step> plan = List.of(Step.CORDON, Step.DRAIN, Step.RESET);
        assertEquals(plan, escalation.adjust("GPU-0", "XID_79", plan).steps());
    }

    private static RecoveryConfig config(Map<String, String> properties) {
        // Quarkus' converter reads "10m" durations, as in the running agent.
        SmallRyeConfig config = new SmallRyeConfigBuilder().withMapping(RecoveryConfig.class)
                .withConverter(Duration.class, 200, new DurationConverter())
                .withSources(new PropertiesConfigSource(properties, "test", 500)).build();
        return config.getConfigMapping(RecoveryConfig.class);
    }
}
