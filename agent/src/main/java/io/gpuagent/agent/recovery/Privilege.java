package io.gpuagent.agent.recovery;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The Linux privileges recovery steps need, how to tell whether the agent holds one, and how to tell a step
 * that failed for lack of one. Such a step is recorded as {@link Result#REJECTED} with the fix: nothing
 * changed on the GPU, so it must not count toward escalation (a reboot requested because the agent was not
 * allowed to reset would be the agent's fault, not the GPU's).
 */
public enum Privilege {
    /** The NVIDIA driver's administrator check for GPU reset and NVML writes (power limit, clocks). */
    CAP_SYS_ADMIN(21, "GPU reset, power cap and clock reset in the agent's own process (the NVIDIA driver allows them to an "
            + "administrator only); with gpu-agent.recovery.privileged-socket, which the drop-in sets, gpu-agent-privileged "
            + "holds it instead"),
    /** Signals to the processes on a GPU, which belong to other users. */
    CAP_KILL(5, "terminating the processes on a GPU (they belong to other users)");

    /** What to do about a missing privilege: the drop-in that grants exactly these. */
    public static final String FIX = "install the enforce-mode drop-in (/usr/share/gpu-agent/systemd/enforce.conf to "
            + "/etc/systemd/system/gpu-agent.service.d/, see systemd/README.md) or run the agent as root";

    /** How commands (nvidia-smi, scontrol, systemctl, sudo) and the kernel say "not allowed". */
    private static final Pattern DENIED = Pattern.compile("(?i)permission denied|insufficient permissions|"
            + "not permitted|must be root|requires root|access denied|does not have permission|invalid user id|"
            + "not authorized|interactive authentication required");

    private final int bit;
    private final String neededFor;

    Privilege(int bit, String neededFor) {
        this.bit = bit;
        this.neededFor = neededFor;
    }

    public String neededFor() {
        return neededFor;
    }

    /** True when this process holds the capability now (effective set of /proc/self/status). */
    public boolean held() {
        return held(effectiveCapabilities());
    }

    boolean held(long effective) {
        return (effective & (1L << bit)) != 0;
    }

    /** The effective capability set, or 0 when it cannot be read (then nothing counts as held). */
    static long effectiveCapabilities() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("CapEff:")) {
                    return Long.parseUnsignedLong(line.substring(7).strip(), 16);
                }
            }
        } catch (IOException | NumberFormatException e) {
            // Not Linux, or /proc hidden: the guard then reports the privilege as missing, which is the safe side.
        }
        return 0;
    }

    /** True when a command's exit and output say it was refused for lack of privilege (126: not executable). */
    static boolean deniedBy(Commands.Outcome o) {
        return !o.ok() && !o.timedOut() && (o.exitCode() == 126 || DENIED.matcher(o.output()).find());
    }

    /** A failure whose cause chain says "not allowed" (NVML NO_PERMISSION, EACCES starting a command); else empty. */
    static Optional<String> deniedBy(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof NvmlWrites.NoPermission || c instanceof PrivilegedSocket.Unreachable) {
                return Optional.of(c.getMessage());
            }
            if (c instanceof IOException && c.getMessage() != null && DENIED.matcher(c.getMessage()).find()) {
                return Optional.of(c.getMessage() + "; make the command executable by the agent's user, " + FIX);
            }
        }
        return Optional.empty();
    }
}
