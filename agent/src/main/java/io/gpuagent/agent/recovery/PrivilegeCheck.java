package io.gpuagent.agent.recovery;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * Before enforce mode starts: can the agent do what its policy will ask? Each step the policy (and its
 * escalation) can run is mapped to the {@link Privilege} and the command it needs (or, with
 * {@code gpu-agent.recovery.privileged-socket}, to gpu-agent-privileged's socket); what is missing is named,
 * with the fix, so that the agent refuses to start instead of failing on the first fault at 3 a.m.
 * Slurm's permission for {@code scontrol} and polkit's for {@code systemctl reboot} are granted outside
 * Linux capabilities and cannot be probed without acting; a refusal there is rejected at run time.
 */
final class PrivilegeCheck {

    private static final Set<Step> NEED_ADMIN = EnumSet.of(Step.RESET, Step.POWER_CAP, Step.POWER_RESTORE, Step.RESET_CLOCKS);

    private PrivilegeCheck() {
    }

    /** What the configured policy needs and this process lacks, one line each; empty when nothing is. */
    static List<String> missing(RecoveryConfig config, long effectiveCapabilities, Predicate<String> executable) {
        Set<Step> steps = steps(config.policy());
        List<String> out = new ArrayList<>();
        Set<Step> admin = EnumSet.copyOf(NEED_ADMIN);
        admin.retainAll(steps);
        if (!admin.isEmpty() && config.privilegedSocket().isPresent()) {
            Path socket = config.privilegedSocket().get();
            socketProblem(socket).ifPresent(p -> out.add("the policy's " + labels(admin) + " go through gpu-agent-privileged "
                    + "(gpu-agent.recovery.privileged-socket=" + socket + ") and " + p + ": start gpu-agent-privileged.socket "
                    + "(the enforce-mode drop-in pulls it in with the agent; see systemd/README.md) and run the agent in the "
                    + "group gpu-agent; or take the steps out of gpu-agent.recovery.policy.*"));
        } else if (!admin.isEmpty() && !Privilege.CAP_SYS_ADMIN.held(effectiveCapabilities)) {
            out.add(need(Privilege.CAP_SYS_ADMIN, admin));
        }
        boolean terminates = steps.contains(Step.TERMINATE)
                || (steps.contains(Step.DRAIN) && config.drainOnDeadline() == RecoveryConfig.DrainOnDeadline.TERMINATE);
        if (terminates && !Privilege.CAP_KILL.held(effectiveCapabilities)) {
            out.add(need(Privilege.CAP_KILL, EnumSet.of(Step.TERMINATE)));
        }
        if (steps.contains(Step.RESET) && config.privilegedSocket().isEmpty()) {
            program("gpu-agent.recovery.reset-command", Optional.of(config.resetCommand()), executable).ifPresent(out::add);
        }
        if (steps.contains(Step.DRAIN)) {
            program("gpu-agent.recovery.drain-command", config.drainCommand(), executable).ifPresent(out::add);
        }
        if (steps.contains(Step.REQUEST_REBOOT)) {
            program("gpu-agent.recovery.reboot-command", config.rebootCommand(), executable).ifPresent(out::add);
        }
        return out;
    }

    /** Every step a policy plan can run: the rules' steps, and the reboot request escalation puts for a reset. */
    static Set<Step> steps(Map<String, String> overrides) {
        Set<Step> steps = EnumSet.noneOf(Step.class);
        new RecoveryPolicy(overrides).describe().values().forEach(labels -> labels.forEach(l -> steps.add(Step.parse(l))));
        if (steps.contains(Step.RESET)) {
            steps.add(Step.REQUEST_REBOOT);
            steps.add(Step.INSPECT_HARDWARE);
        }
        return steps;
    }

    /** True when {@code program} (a path, or a name looked up on PATH) is an executable file. */
    static boolean onPath(String program) {
        if (program.contains("/")) {
            return Files.isExecutable(Path.of(program));
        }
        String path = System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
        for (String dir : path.split(File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, program))) {
                return true;
            }
        }
        return false;
    }

    /**
     * Why the agent could not connect to {@code socket}, or empty when it can: it exists, is a socket, and this
     * process may write it (the unit's SocketGroup=gpu-agent, SocketMode=0660). Connecting would start a helper
     * for nothing.
     */
    static Optional<String> socketProblem(Path socket) {
        try {
            int mode = (Integer) Files.getAttribute(socket, "unix:mode", LinkOption.NOFOLLOW_LINKS);
            if ((mode & S_IFMT) != S_IFSOCK) {
                return Optional.of(socket + " is not a socket");
            }
        } catch (NoSuchFileException e) {
            return Optional.of(socket + " does not exist");
        } catch (IOException | UnsupportedOperationException | ClassCastException e) {
            return Optional.of(socket + " cannot be read (" + e.getMessage() + ")");
        }
        return Files.isWritable(socket) ? Optional.empty()
                : Optional.of("the agent's user may not connect to " + socket + " (it is not in its group)");
    }

    private static final int S_IFMT = 0170000, S_IFSOCK = 0140000;

    private static String labels(Set<Step> steps) {
        return steps.stream().map(Step::label).collect(Collectors.joining(", "));
    }

    private static String need(Privilege p, Set<Step> steps) {
        return "the policy's " + labels(steps) + " need "
                + p.name() + " (" + p.neededFor() + ") and the agent does not hold it: " + Privilege.FIX
                + "; or take the steps out of gpu-agent.recovery.policy.*";
    }

    private static Optional<String> program(String key, Optional<String> command, Predicate<String> executable) {
        if (command.isEmpty()) {
            return Optional.empty();
        }
        String program = CommandTemplate.parse(key, command.get(), Set.of("index", "uuid", "pciBusId", "node", "reason"))
                .args().getFirst();
        return executable.test(program) ? Optional.empty()
                : Optional.of(key + " runs '" + program + "', which is not an executable file on the agent's PATH; "
                        + "install it or give its full path");
    }
}
