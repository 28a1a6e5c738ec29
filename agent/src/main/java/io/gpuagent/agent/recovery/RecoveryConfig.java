package io.gpuagent.agent.recovery;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** {@code gpu-agent.recovery.*}: the recovery engine. docs/configuration.md#recovery-recoveryconfig documents every key. */
@ConfigMapping(prefix = "gpu-agent.recovery")
public interface RecoveryConfig {

    /** {@code observe}: recommend and record, change nothing; {@code enforce}: act by the policy. */
    @WithDefault("observe")
    RecoveryMode mode();

    /**
     * Overrides of the default policy: key a reason code ({@code XID_79}, {@code THERMAL_SLOWDOWN_SUSTAINED})
     * or a repair action ({@code drain_and_reset}), value the steps in order, comma separated, or {@code none}.
     */
    Map<String, String> policy();

    /** Command that resets one GPU; {@code {index}}, {@code {uuid}}, {@code {pciBusId}} are filled in. Run without a shell. */
    @WithDefault("nvidia-smi --gpu-reset -i {pciBusId}")
    String resetCommand();

    /**
     * The socket of gpu-agent-privileged (the root-owned helper, systemd/gpu-agent-privileged): when set, reset,
     * power_cap, power_restore and reset_clocks are asked of it and the agent needs no CAP_SYS_ADMIN (the
     * reset command is then not used). Absent: the reset command runs and NVML is written in-process.
     */
    Optional<Path> privilegedSocket();

    /** Optional command run when a drain starts ({@code {node}}, {@code {index}}, {@code {uuid}}, {@code {reason}}). */
    Optional<String> drainCommand();

    /** Optional command run on a reboot request ({@code {node}}, {@code {reason}}); absent: metric and event only. */
    Optional<String> rebootCommand();

    /** Longest a command (reset, drain, reboot) may run before it is killed. */
    @WithDefault("2m")
    Duration commandTimeout();

    /** Longest one step of an action may take (the rail around every step, whatever its own bound). */
    @WithDefault("10m")
    Duration actionTimeout();

    /** How long a drain waits for the GPU's lease to end and its processes to exit. */
    @WithDefault("5m")
    Duration drainDeadline();

    /** What a drain does at its deadline: {@code abort} (fail, GPU stays cordoned) or {@code terminate}. */
    @WithDefault("abort")
    DrainOnDeadline drainOnDeadline();

    /** Time between SIGTERM and SIGKILL when processes are terminated. */
    @WithDefault("10s")
    Duration terminateGrace();

    /** Resets allowed per GPU within {@link #resetWindow()}. */
    @WithDefault("1")
    int resetLimit();

    @WithDefault("1h")
    Duration resetWindow();

    /** How long a reset's verification waits for the GPU to read OK again. */
    @WithDefault("60s")
    Duration verifyTimeout();

    /** How long the engine lets a fault storm arrive before acting, so that the node breaker sees all of it. */
    @WithDefault("2s")
    Duration settle();

    /** The node circuit breaker opens when more than half the GPUs turned UNHEALTHY or LOST within this window. */
    @WithDefault("5m")
    Duration breakerWindow();

    /** Resets of the same fatal reason on the same GPU after which a reboot is requested instead. */
    @WithDefault("2")
    int resetsBeforeReboot();

    /** Reboot requests for the same reason on the same GPU after which only hardware inspection is recommended. */
    @WithDefault("2")
    int rebootsBeforeInspection();

    /** The power limit under sustained thermal stress, in percent of the GPU's default limit. */
    @WithDefault("80")
    int powerCapPercent();

    /**
     * Enforce mode checks at start that the agent holds the privileges its policy needs (CAP_SYS_ADMIN for
     * reset and NVML writes, or the privileged socket, CAP_KILL for terminate) and that its commands exist. Off only where a stand-in
     * driver and commands need no privilege (the tests' fake NVML).
     */
    @WithDefault("true")
    boolean privilegeCheck();

    /** Webhooks that receive every action step and every change to UNHEALTHY or LOST (JSON POST). */
    Optional<List<URI>> notifyUrls();

    enum DrainOnDeadline {
        ABORT, TERMINATE
    }
}
