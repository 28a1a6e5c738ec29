package io.gpuagent.agent.recovery;

import io.gpuagent.agent.AgentConfig;
import io.gpuagent.agent.health.GpuHealth;
import io.gpuagent.agent.health.HealthModel;
import io.gpuagent.agent.health.detect.RepairAction;
import io.gpuagent.agent.kubernetes.NodeDrain;
import io.gpuagent.agent.lease.Cordons;
import io.gpuagent.agent.lease.GpuLeases;
import io.gpuagent.agent.sampler.SamplerService;
import io.gpuagent.agent.health.detect.DcgmDetector;
import io.gpuagent.dcgm.DcgmException;
import io.gpuagent.dcgm.DcgmReturn;
import io.gpuagent.dcgm.DiagLevel;
import io.gpuagent.dcgm.DiagReport;
import io.gpuagent.exporter.DcgmFeed;
import io.gpuagent.exporter.GpuSample;
import io.gpuagent.exporter.GpuStatus;
import io.gpuagent.exporter.Snapshot;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * What each {@link Step} does to its GPU, and what the steps leave behind for later: cordons, power limits to
 * restore, GPUs awaiting inspection, a requested reboot. It only does the work; the {@link ActionRunner}
 * audits each step and bounds it in time, and the rails decide whether it runs at all.
 */
final class StepRunner {

    private final RecoveryConfig config;
    private final Clock clock;
    private final HealthModel health;
    private final SamplerService sampler;
    private final Cordons cordons;
    private final Commands commands;
    private final NvmlWrites nvmlWrites;
    private final Drain drain;
    private final NodeDrain kubernetes;
    private final GpuReset gpuReset;
    private final String node;
    private final long pollMillis;
    private final CommandTemplate resetCommand;
    /** Present: reset, power and clock writes are asked of gpu-agent-privileged instead of done here. */
    private final Optional<PrivilegedSocket> privileged;
    private final Optional<CommandTemplate> rebootCommand;
    private final Map<String, Long> powerCaps = new ConcurrentHashMap<>();   // uuid -> limit before the cap, mW
    private final Set<String> inspecting = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean rebootRequested = new AtomicBoolean();

    StepRunner(RecoveryConfig config, AgentConfig agent, HealthModel health, SamplerService sampler, Cordons cordons,
               GpuLeases leases, Commands commands, ProcessSignals signals, NvmlWrites nvmlWrites, GpuReset gpuReset,
               NodeDrain kubernetes, Clock clock) {
        this.kubernetes = kubernetes;
        this.config = config;
        this.clock = clock;
        this.health = health;
        this.sampler = sampler;
        this.cordons = cordons;
        this.commands = commands;
        this.nvmlWrites = nvmlWrites;
        this.gpuReset = gpuReset;
        this.node = agent.hostname().orElseGet(StepRunner::localHostName);
        // Half the sample interval: a new snapshot is seen soon after it is taken, without spinning.
        this.pollMillis = Math.clamp(sampler.config().sampleInterval().toMillis() / 2, 50, 1000);
        if (config.powerCapPercent() < 1 || config.powerCapPercent() > 100) {
            throw new IllegalArgumentException("gpu-agent.recovery.power-cap-percent must be 1..100, got "
                    + config.powerCapPercent());
        }
        this.resetCommand = CommandTemplate.parse("gpu-agent.recovery.reset-command", config.resetCommand(),
                Set.of("index", "uuid", "pciBusId"));
        this.privileged = config.privilegedSocket().map(PrivilegedSocket::new);
        this.drain = new Drain(config, sampler, leases, commands, signals, nvmlWrites, kubernetes, pollMillis);
        this.rebootCommand = config.rebootCommand().map(c -> CommandTemplate.parse("gpu-agent.recovery.reboot-command",
                c, Set.of("node", "reason")));
    }

    StepOutcome perform(Execution e, Step s) throws Exception {
        String uuid = e.target.uuid();
        return switch (s) {
            case CORDON -> cordon(e);
            case UNCORDON -> uncordon(e);
            case DRAIN -> {
                cordon(e);
                yield drain.drain(e, vars(e));
            }
            case TERMINATE -> drain.terminate(e);
            case RESET -> reset(e);
            case VERIFY -> verify(e);
            case DIAGNOSE -> diagnose(e);
            case POWER_CAP -> powerCap(uuid);
            case POWER_RESTORE -> restorePower(uuid);
            case RESET_CLOCKS -> StepOutcome.ok(resetClocks(uuid));
            case REQUEST_REBOOT -> requestReboot(e);
            case INSPECT_HARDWARE -> {
                cordon(e);
                inspecting.add(uuid);
                yield StepOutcome.ok("the GPU stays cordoned for hardware inspection (cooling, cabling, RMA); no further "
                        + "automatic action on it until an operator uncordons it");
            }
            case CLEAR -> {
                GpuHealth g = health.clear(e.target.index(), uuid, e.trigger.text(), e.reason).orElseThrow();
                yield StepOutcome.ok("health now " + g.state());
            }
            case REQUEST -> throw new IllegalArgumentException("not a step");
        };
    }

    StepOutcome cordon(Execution e) {
        if (cordons.cordon(e.target.uuid(), e.trigger.text(), e.reason, clock.instant())) {
            e.cordonedHere = true;
            return StepOutcome.ok("cordoned: no new leases on this GPU");
        }
        Cordons.Cordon c = cordons.of(e.target.uuid()).orElse(null);
        return StepOutcome.ok(c == null ? "cordoned" : "already cordoned by " + c.by() + " since " + c.since());
    }

    StepOutcome uncordon(Execution e) {
        boolean was = cordons.uncordon(e.target.uuid());
        if (e.trigger instanceof Trigger.Operator) {
            inspecting.remove(e.target.uuid());   // an operator looked at it
        }
        String detail = was ? "uncordoned: the GPU rejoins placement" : "was not cordoned";
        if (kubernetes.enabled() && cordons.all().isEmpty()) {
            // The node goes back to the scheduler once no GPU is out of placement, and only if the agent cordoned it.
            try {
                detail += "; " + kubernetes.uncordon();
            } catch (Exception x) {
                detail += "; the node could not be uncordoned in Kubernetes (" + x.getMessage() + "): run kubectl "
                        + "uncordon on it once the API server answers";
            }
        }
        return StepOutcome.ok(detail);
    }

    /** With Kubernetes on, what a drain of this GPU would do there (observe mode's audit line); else empty. */
    Optional<String> kubernetesPreview(String uuid) {
        return kubernetes.enabled() ? Optional.of(kubernetes.preview(drain.devices(uuid))) : Optional.empty();
    }

    /** With Kubernetes on, a node Event for a step that ended (Warning unless it succeeded or was only recommended). */
    void announce(Execution e, Step s, StepOutcome o) {
        if (!kubernetes.enabled() || s == Step.REQUEST || !o.result().finished()) {
            return;
        }
        String name = s.name().toLowerCase(java.util.Locale.ROOT);
        StringBuilder reason = new StringBuilder("GpuRecovery");
        for (String part : name.split("_")) {
            reason.append(Character.toUpperCase(part.charAt(0))).append(part.substring(1));
        }
        boolean warning = o.result() != Result.SUCCEEDED && o.result() != Result.RECOMMENDED;
        String where = e.target == null ? "" : "GPU " + e.target.index() + " " + e.target.uuid() + ": ";
        kubernetes.recordEvent(warning, reason.toString(), where + s.label() + " " + o.result().label()
                + (o.detail() == null ? "" : " (" + o.detail() + ")") + "; action " + e.actionId + " in /v1/actions");
    }

    /** See {@link GpuReset}: NVML is released around the command (or the helper's reset), which the driver needs. */
    private StepOutcome reset(Execution e) throws Exception {
        e.watchedEventsBeforeReset = gpuReset.watchingEvents();
        String uuid = e.target.uuid();
        List<String> argv = resetCommand.argv(vars(e));
        StepOutcome o = gpuReset.run(e.target.index(), uuid, privileged.isPresent()
                ? () -> privileged.get().reset(uuid, config.commandTimeout())
                : () -> StepOutcome.of("NVML released; reset command",
                        commands.run(resetCommand.key(), argv, config.commandTimeout())));
        e.resetEndedAt = clock.instant();
        return o;
    }

    private StepOutcome verify(Execution e) throws InterruptedException {
        String uuid = e.target.uuid();
        Instant after = e.resetEndedAt == null ? clock.instant() : e.resetEndedAt;
        long deadline = System.nanoTime() + config.verifyTimeout().toNanos();
        GpuSample last = null;
        while (true) {
            Snapshot snap = sampler.latest();
            last = snap.gpu(uuid).orElse(last);
            if (last != null && last.status() == GpuStatus.OK && last.readAt().isAfter(after)) {
                break;
            }
            if (System.nanoTime() > deadline) {
                return StepOutcome.failed("the GPU did not read OK within " + config.verifyTimeout() + " after the reset ("
                        + (last == null ? "not in the driver's list" : "status " + last.status() + ": " + last.statusReason())
                        + ")");
            }
            Thread.sleep(pollMillis);
        }
        while (e.watchedEventsBeforeReset && !gpuReset.watchingEvents()) {
            if (System.nanoTime() > deadline) {
                return StepOutcome.failed("the GPU reads OK but driver events (XIDs) are not registered again within "
                        + config.verifyTimeout() + " after the reset");
            }
            Thread.sleep(pollMillis);
        }
        Optional<GpuHealth> h = health.recovered(uuid, RepairAction.DRAIN_AND_RESET);
        if (h.isEmpty()) {
            return StepOutcome.failed("the health model no longer knows this GPU");
        }
        if (!h.get().state().serving()) {
            return StepOutcome.failed("the GPU reads OK but is still " + h.get().state() + ": "
                    + h.get().reasons().getFirst().message());
        }
        Optional<String> diagFailed = diagnostic(uuid);
        if (diagFailed.isPresent()) {
            return StepOutcome.failed(diagFailed.get());
        }
        return StepOutcome.ok("the GPU reads OK again; health " + h.get().state()
                + (verifyDiag().isPresent() && sampler.dcgm().isPresent()
                        ? "; DCGM diagnostic r" + (verifyDiag().get().ordinal() + 1) + " passed" : ""));
    }

    /**
     * Why an operator's diagnostic may not run now (DCGM off, the GPU not drained: not cordoned, or processes on
     * it); empty when it may. The diagnostic loads the GPU: never under someone's work.
     */
    Optional<String> diagnoseRefusal(Execution e) {
        if (sampler.dcgm().isEmpty()) {
            return Optional.of("DCGM is off (gpu-agent.dcgm.mode=off): no diagnostic can run; docs/dcgm.md");
        }
        if (cordons.of(e.target.uuid()).isEmpty()) {
            return Optional.of("GPU " + e.target.index() + " is not drained: drain it first (POST /v1/gpus/"
                    + e.target.index() + "/drain), then ask for the diagnostic");
        }
        Busy busy = busy(e.target.uuid());
        if (!busy.idle()) {
            return Optional.of("GPU " + e.target.index() + " is " + busy.describe() + ": drain it first");
        }
        return Optional.empty();
    }

    /** An operator's diagnostic: the verify level, or r1 when the verify diagnostic is off. */
    private StepOutcome diagnose(Execution e) throws InterruptedException {
        Optional<String> no = diagnoseRefusal(e);
        if (no.isPresent()) {
            return StepOutcome.failed(no.get());
        }
        DiagLevel level = verifyDiag().orElse(DiagLevel.R1);
        Optional<String> failed = diagnostic(e.target.uuid(), level, "on the operator's request");
        return failed.isPresent() ? StepOutcome.failed(failed.get())
                : StepOutcome.ok("DCGM diagnostic r" + (level.ordinal() + 1) + " passed");
    }

    /** {@code gpu-agent.dcgm.verify-diag-level}: empty for {@code off} (or DCGM off). */
    private Optional<DiagLevel> verifyDiag() {
        String level = sampler.config().dcgm().verifyDiagLevel().strip();
        return switch (level) {
            case "off", "0", "" -> Optional.empty();
            case "1", "r1" -> Optional.of(DiagLevel.R1);
            case "2", "r2" -> Optional.of(DiagLevel.R2);
            case "3", "r3" -> Optional.of(DiagLevel.R3);
            case "4", "r4" -> Optional.of(DiagLevel.R4);
            default -> throw new IllegalArgumentException("gpu-agent.dcgm.verify-diag-level must be off or 1 to 4, not '"
                    + level + "'");
        };
    }

    /**
     * After a reset, the DCGM diagnostic of {@code gpu-agent.dcgm.verify-diag-level} on the GPU (DCGM on only): why
     * the verification fails (the failing tests with their DCGM_FR codes), or empty when it passed or is not
     * configured. A GPU DCGM calls busy (IN_USE, another diagnostic running) is asked again every few seconds until
     * the diagnostic timeout.
     */
    private Optional<String> diagnostic(String uuid) throws InterruptedException {
        Optional<DiagLevel> level = verifyDiag();
        if (level.isEmpty() || sampler.dcgm().isEmpty()) {
            return Optional.empty();
        }
        return diagnostic(uuid, level.get(), "after the reset");
    }

    /** Runs the diagnostic {@code lvl}; why it failed or did not run ({@code when}: for the message), empty when it passed. */
    private Optional<String> diagnostic(String uuid, DiagLevel lvl, String when) throws InterruptedException {
        Optional<DcgmFeed> dcgm = sampler.dcgm();
        if (dcgm.isEmpty()) {
            return Optional.of("DCGM is off");
        }
        String name = "r" + (lvl.ordinal() + 1);
        Busy holders = busy(uuid);
        if (!holders.idle()) {
            // The diagnostic loads the GPU: never under someone's work (a lease, or processes on it or its MIG
            // devices). Before a reset the drain emptied it.
            return Optional.of("the DCGM diagnostic " + name + " was not run " + when + ": the GPU is "
                    + holders.describe() + "; the GPU stays cordoned");
        }
        Duration timeout = sampler.config().dcgm().verifyDiagTimeout();
        long until = System.nanoTime() + timeout.toNanos();
        while (true) {
            try {
                Optional<DiagReport> report = dcgm.get().diagnose(uuid, lvl,
                        Duration.ofNanos(Math.max(until - System.nanoTime(), 1)));
                if (report.isEmpty()) {
                    return Optional.of("the DCGM diagnostic " + name + " could not run: DCGM is not connected ("
                            + dcgm.get().downReason() + "); the GPU stays cordoned: run dcgmi diag -r "
                            + (lvl.ordinal() + 1) + " on it, then uncordon it");
                }
                if (report.get().passed()) {
                    return Optional.empty();
                }
                List<String> failed = new java.util.ArrayList<>();
                for (DiagReport.Test t : report.get().tests()) {
                    if (t.result() == io.gpuagent.dcgm.DiagResult.FAIL) {
                        String codes = t.errors().stream().map(er -> DcgmDetector.errorName(er.code())
                                + (er.message().isEmpty() ? "" : " " + er.message())).distinct()
                                .collect(java.util.stream.Collectors.joining("; "));
                        failed.add(t.name() + (codes.isEmpty() ? "" : " (" + codes + ")"));
                    }
                }
                return Optional.of("the DCGM diagnostic " + name + " failed " + when + ": tests " + failed
                        + "; the GPU stays cordoned (dcgmi diag -r " + (lvl.ordinal() + 1) + " for details)");
            } catch (DcgmException ex) {
                boolean busy = ex.result() == DcgmReturn.IN_USE || ex.result() == DcgmReturn.DIAG_ALREADY_RUNNING;
                if (!busy || System.nanoTime() > until) {
                    return Optional.of("the DCGM diagnostic " + name + " did not run: " + ex.getMessage()
                            + (busy ? " (the GPU stayed busy for " + timeout + ")" : ""));
                }
                Thread.sleep(Math.max(pollMillis, 2000));
            } catch (TimeoutException ex) {
                return Optional.of("the DCGM diagnostic " + name + " did not finish within " + timeout
                        + " (gpu-agent.dcgm.verify-diag-timeout)");
            } catch (RuntimeException ex) {
                return Optional.of("the DCGM diagnostic " + name + " did not run: " + ex.getMessage());
            }
        }
    }

    private StepOutcome powerCap(String uuid) throws Exception {
        NvmlWrites.PowerLimits limits = nvmlWrites.powerLimits(uuid);
        if (powerCaps.containsKey(uuid)) {
            return StepOutcome.ok("already capped at " + limits.limitMw() + " mW");
        }
        long target = Math.max(limits.minMw(), limits.defaultMw() * config.powerCapPercent() / 100);
        if (privileged.isPresent()) {
            // gpu-agent-privileged sets whole watts (nvidia-smi -pl): rounded down, not below the lowest limit.
            target = 1000 * Math.max(target / 1000, Math.ceilDiv(limits.minMw(), 1000));
        }
        if (limits.limitMw() <= target) {
            return StepOutcome.ok("the power limit " + limits.limitMw() + " mW is already at or below " + target
                    + " mW (" + config.powerCapPercent() + "% of the default " + limits.defaultMw() + " mW)");
        }
        setPowerLimit(uuid, target);
        powerCaps.put(uuid, limits.limitMw());
        return new StepOutcome(Result.SUCCEEDED, "power limit " + limits.limitMw() + " mW -> " + target + " mW ("
                + config.powerCapPercent() + "% of the default " + limits.defaultMw() + " mW); restored when the GPU "
                + "is HEALTHY again", new PowerCap(limits.limitMw(), target));
    }

    private StepOutcome restorePower(String uuid) throws Exception {
        Long before = powerCaps.get(uuid);
        if (before == null) {
            return StepOutcome.ok("no power cap to restore");
        }
        long restored = setPowerLimit(uuid, before);
        powerCaps.remove(uuid);
        return StepOutcome.ok("power limit restored to " + restored + " mW");
    }

    /** Sets the limit, in-process or through gpu-agent-privileged (whole watts, nearest); returns the limit set, mW. */
    private long setPowerLimit(String uuid, long milliwatts) throws Exception {
        if (privileged.isEmpty()) {
            nvmlWrites.setPowerLimit(uuid, milliwatts);
            return milliwatts;
        }
        nvmlWrites.requireDevice(uuid);
        long watts = (milliwatts + 500) / 1000;
        privileged.get().setPowerLimit(uuid, watts, config.commandTimeout());
        return watts * 1000;
    }

    private String resetClocks(String uuid) throws Exception {
        if (privileged.isEmpty()) {
            return String.join(", ", nvmlWrites.resetClocks(uuid));
        }
        nvmlWrites.requireDevice(uuid);
        return privileged.get().resetClocks(uuid, config.commandTimeout());
    }

    private StepOutcome requestReboot(Execution e) throws Exception {
        rebootRequested.set(true);
        if (rebootCommand.isEmpty()) {
            return StepOutcome.ok("gpu_agent_reboot_requested is 1 and an event is recorded; no "
                    + "gpu-agent.recovery.reboot-command is configured, so the operator or the scheduler reboots " + node);
        }
        Commands.Outcome o = commands.run(rebootCommand.get().key(), rebootCommand.get().argv(vars(e)), config.commandTimeout());
        return StepOutcome.of("reboot command", o);
    }

    // ---- what the steps left behind ----

    Busy busy(String uuid) {
        return drain.busy(uuid);
    }

    boolean powerCapped(String uuid) {
        return powerCaps.containsKey(uuid);
    }

    Map<String, Long> powerCaps() {
        return Map.copyOf(powerCaps);
    }

    boolean awaitsInspection(String uuid) {
        return inspecting.contains(uuid);
    }

    Set<String> inspecting() {
        return Set.copyOf(inspecting);
    }

    boolean rebootRequested() {
        return rebootRequested.get();
    }

    /** Rebuilds cordons, inspections and power caps from one line of the audit log at start. */
    void restore(ActionRecord r) {
        if (r.uuid() == null) {
            return;
        }
        Step s = r.step();
        boolean cordoning = (s == Step.DRAIN && r.result() == Result.STARTED)
                || ((s == Step.CORDON || s == Step.INSPECT_HARDWARE) && r.result() == Result.SUCCEEDED);
        if (cordoning) {
            cordons.cordon(r.uuid(), r.trigger().text(), r.reason(), r.time());
        }
        if (s == Step.UNCORDON && r.result() == Result.SUCCEEDED) {
            cordons.uncordon(r.uuid());
            inspecting.remove(r.uuid());
        }
        if (s == Step.INSPECT_HARDWARE && r.result() == Result.SUCCEEDED) {
            inspecting.add(r.uuid());
        }
        if (s == Step.POWER_CAP && r.result() == Result.SUCCEEDED) {
            PowerCap.of(r).ifPresent(cap -> powerCaps.put(r.uuid(), cap.beforeMw()));
        }
        if (s == Step.POWER_RESTORE && r.result() == Result.SUCCEEDED) {
            powerCaps.remove(r.uuid());
        }
    }

    private Map<String, String> vars(Execution e) {
        Map<String, String> v = new LinkedHashMap<>();
        v.put("index", Integer.toString(e.target.index()));
        v.put("uuid", e.target.uuid());
        v.put("pciBusId", e.target.pciBusId());
        v.put("node", node);
        v.put("reason", e.reason == null ? "" : e.reason);
        return v;
    }

    private static String localHostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "localhost";
        }
    }
}
