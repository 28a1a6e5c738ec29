package io.gpuagent.agent.recovery;

import io.gpuagent.agent.kubernetes.NodeDrain;
import io.gpuagent.agent.lease.GpuLeases;
import io.gpuagent.agent.sampler.SamplerService;
import io.gpuagent.exporter.MigSample;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The drain and terminate steps: run the drain command if one is configured, then wait until the GPU has no
 * lease and no processes; at {@code drain-deadline} either give up ({@code abort}, the GPU stays cordoned) or
 * end the GPU's leases and terminate its processes ({@code terminate}). A GPU in MIG mode is drained with all
 * its MIG devices: the cordon of the GPU covers them, and a lease or a process on any of them holds the GPU.
 * With Kubernetes on ({@link NodeDrain}), the node is cordoned and the pods holding the GPU or its MIG devices are
 * evicted first, within the same deadline.
 */
final class Drain {

    private final RecoveryConfig config;
    private final SamplerService sampler;
    private final GpuLeases leases;
    private final Commands commands;
    private final ProcessSignals signals;
    private final NvmlWrites nvml;
    private final NodeDrain kubernetes;
    private final Optional<CommandTemplate> drainCommand;
    private final long pollMillis;

    Drain(RecoveryConfig config, SamplerService sampler, GpuLeases leases, Commands commands, ProcessSignals signals,
          NvmlWrites nvml, NodeDrain kubernetes, long pollMillis) {
        this.kubernetes = kubernetes;
        this.config = config;
        this.sampler = sampler;
        this.leases = leases;
        this.commands = commands;
        this.signals = signals;
        this.nvml = nvml;
        this.pollMillis = pollMillis;
        this.drainCommand = config.drainCommand().map(c -> CommandTemplate.parse("gpu-agent.recovery.drain-command", c,
                Set.of("node", "index", "uuid", "pciBusId", "reason")));
    }

    /** Drains the GPU, which the caller has cordoned; {@code vars} fill in the drain command. */
    StepOutcome drain(Execution e, Map<String, String> vars) throws Exception {
        String uuid = e.target.uuid();
        List<String> notes = new ArrayList<>();
        if (drainCommand.isPresent()) {
            Commands.Outcome o = commands.run(drainCommand.get().key(), drainCommand.get().argv(vars), config.commandTimeout());
            if (!o.ok()) {
                return StepOutcome.of("drain command", o);
            }
            notes.add("drain command " + o.describe());
        }
        long start = System.nanoTime();
        long deadline = start + config.drainDeadline().toNanos();
        if (kubernetes.enabled()) {
            notes.add(kubernetes.cordon("gpu-agent " + e.actionId + ": GPU " + e.target.index() + " " + e.reason));
            NodeDrain.Outcome evicted = kubernetes.evict(devices(uuid), deadline);
            notes.add(evicted.detail());
            if (!evicted.ok()) {
                return StepOutcome.failed(String.join("; ", notes) + "; the GPU stays cordoned: check the pods' "
                        + "PodDisruptionBudgets, then drain again");
            }
        }
        Busy b = busy(uuid);
        while (!b.idle() && System.nanoTime() < deadline) {
            Thread.sleep(pollMillis);
            b = busy(uuid);
        }
        if (b.idle()) {
            notes.add("drained after " + (System.nanoTime() - start) / 1_000_000 + " ms: no lease, no processes");
            return StepOutcome.ok(String.join("; ", notes));
        }
        if (config.drainOnDeadline() == RecoveryConfig.DrainOnDeadline.ABORT) {
            notes.add("deadline " + config.drainDeadline() + " passed: " + b.describe() + "; the GPU stays cordoned. "
                    + "End the job, or set gpu-agent.recovery.drain-on-deadline=terminate, then drain again");
            return StepOutcome.failed(String.join("; ", notes));
        }
        int ended = leases.endLeasesOn(uuid, "drain deadline passed: " + e.reason);
        StepOutcome t = terminate(e);
        notes.add("deadline " + config.drainDeadline() + " passed: ended " + ended + " lease(s); " + t.detail());
        Busy after = busy(uuid);
        boolean leaseGone = after.leases().isEmpty();
        boolean processesGone = after.pids().stream().noneMatch(Drain::alive);
        if (leaseGone && processesGone) {
            return StepOutcome.ok(String.join("; ", notes));
        }
        notes.add("still " + after.describe());
        return StepOutcome.failed(String.join("; ", notes));
    }

    /**
     * SIGTERM, grace, SIGKILL to the processes NVML reports on the GPU now (asked again, not the snapshot). On a
     * GPU in MIG mode NVML lists the processes of every MIG device when asked on the GPU, to a privileged caller
     * (what terminate needs anyway: CAP_KILL); the check afterwards reads the MIG devices' processes too.
     */
    StepOutcome terminate(Execution e) throws InterruptedException {
        Set<Long> listed;
        try {
            listed = nvml.processIds(e.target.uuid());
        } catch (RuntimeException x) {
            return StepOutcome.failed("cannot list the GPU's processes from NVML now (" + x.getMessage()
                    + "); nothing signalled: a PID from older readings may belong to another process by now");
        }
        if (listed.isEmpty()) {
            return StepOutcome.ok("no processes on the GPU");
        }
        List<ProcessSignals.Outcome> out = signals.terminate(listed, listed, config.terminateGrace());
        String what = out.stream().map(ProcessSignals.Outcome::what).collect(Collectors.joining("; "));
        boolean allGone = out.stream().allMatch(ProcessSignals.Outcome::gone);
        if (!allGone && out.stream().anyMatch(ProcessSignals.Outcome::notPermitted)) {
            return new StepOutcome(Result.REJECTED, what + "; the agent needs CAP_KILL to signal other users' "
                    + "processes: " + Privilege.FIX);
        }
        return allGone ? StepOutcome.ok(what) : StepOutcome.failed(what);
    }

    /** The GPU's UUID and its MIG devices' (the kubelet names either as what a pod holds). */
    Set<String> devices(String uuid) {
        Set<String> d = new LinkedHashSet<>();
        d.add(uuid);
        sampler.latest().gpu(uuid).ifPresent(g -> g.migDevices().stream().map(MigSample::uuid).forEach(d::add));
        return d;
    }

    /** The GPU's leases and processes, its MIG devices' included. */
    Busy busy(String uuid) {
        return Busy.of(sampler.latest().gpu(uuid).orElse(null), leases.leasesOn(uuid));
    }

    private static boolean alive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }
}
