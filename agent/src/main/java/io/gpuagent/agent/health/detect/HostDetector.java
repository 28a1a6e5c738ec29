package io.gpuagent.agent.health.detect;

import io.gpuagent.agent.host.ClockSync;
import io.gpuagent.agent.host.DeviceHolder;
import io.gpuagent.agent.host.HostSample;
import io.gpuagent.exporter.GpuSample;
import io.gpuagent.exporter.GpuStatus;
import io.gpuagent.exporter.Reading;
import io.gpuagent.exporter.Snapshot;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.Set;

/**
 * The host under the GPUs (docs/node-health.md): the host read itself, the nvidia kernel module against NVML's
 * driver version, persistence mode, the GPU count against the expected one, processes stuck in D state on
 * {@code /dev/nvidia*}, the state directory's room and the clock. Remembers when it first saw each D-state
 * holder (by pid and start time), so "longer than the limit" needs no timestamp from /proc.
 *
 * @param holderLimit  a D-state holder seen this long is a hung driver call
 * @param minFreeBytes DEGRADED when the state directory has less room than this
 */
public final class HostDetector implements Detector {

    private final Duration holderLimit;
    private final long minFreeBytes;
    private final Map<String, Instant> holdersSince = new HashMap<>();   // pid@start -> first seen in D state

    public HostDetector(Duration holderLimit, long minFreeBytes) {
        this.holderLimit = holderLimit;
        this.minFreeBytes = minFreeBytes;
    }

    @Override
    public String name() {
        return "host";
    }

    @Override
    public List<NodeFinding> evaluateNode(NodeSample node, Instant now) {
        HostSample host = node.host();
        List<NodeFinding> out = new ArrayList<>(0);
        if (!host.problems().isEmpty()) {
            out.add(new NodeFinding(NodeCheck.HOST_READ, Subject.NODE, Finding.degraded(name(), "HOST_READ_FAILED",
                    "the host checks could not read everything: " + String.join("; ", host.problems()),
                    "check that the agent may read /proc and /sys (a hung NFS mount or driver blocks reads)")));
        }
        if (!host.read()) {
            return out;
        }
        kernelModule(host, node.snapshot(), out);
        persistence(node.snapshot(), out);
        gpuCount(node, out);
        holders(host, now, out);
        if (host.stateDirFreeBytes().isPresent() && host.stateDirFreeBytes().getAsLong() < minFreeBytes) {
            out.add(new NodeFinding(NodeCheck.STATE_DIR, Subject.NODE, Finding.degraded(name(), "STATE_DIR_FULL",
                    "the state directory has " + mib(host.stateDirFreeBytes().getAsLong()) + " MiB left (less than "
                            + mib(minFreeBytes) + " MiB): leases and events will soon not be recorded",
                    "free space on the state directory's file system (journalctl --vacuum-size, old logs)")));
        }
        if (host.clock().status() == ClockSync.Status.UNSYNCHRONISED) {
            out.add(new NodeFinding(NodeCheck.CLOCK, Subject.NODE, Finding.degraded(name(), "CLOCK_UNSYNCHRONISED",
                    "the system clock is not synchronised (" + host.clock().detail() + "): lease expiry and event times drift",
                    "start the time service (chronyc tracking, timedatectl timesync-status) and check its servers")));
        }
        return out;
    }

    private void kernelModule(HostSample host, Snapshot snapshot, List<NodeFinding> out) {
        if (host.kernelModule().isEmpty()) {
            // With NVML up the module is loaded: no /sys/module/nvidia means this is not the host's sysfs (a
            // container without it, the fake driver), where the versions cannot be compared.
            if (snapshot.nvmlUp()) {
                return;
            }
            out.add(new NodeFinding(NodeCheck.KERNEL_MODULE, Subject.NODE, Finding.unhealthy(name(),
                    "NVIDIA_MODULE_NOT_LOADED", "the nvidia kernel module is not loaded (no /sys/module/nvidia/version) and NVML cannot start",
                    "load it (modprobe nvidia) and check dmesg for why it did not load; reboot if it will not",
                    RepairAction.REBOOT)));
            return;
        }
        String module = host.kernelModule().get();
        String driver = snapshot.driverVersion();
        if (snapshot.nvmlUp() && !driver.isEmpty() && !driver.equals(module)) {
            out.add(new NodeFinding(NodeCheck.KERNEL_MODULE, Subject.NODE, Finding.unhealthy(name(),
                    "DRIVER_VERSION_MISMATCH", "the loaded nvidia kernel module is " + module + " but NVML (the user-space"
                            + " driver) is " + driver + ": a half-finished driver upgrade",
                    "drain the node and reboot it (or unload and reload the nvidia modules) so both are the same version",
                    RepairAction.REBOOT)));
        }
    }

    private void persistence(Snapshot snapshot, List<NodeFinding> out) {
        for (GpuSample g : snapshot.gpus()) {
            OptionalDouble mode = g.value(Reading.PERSISTENCE_MODE);
            if (g.status() == GpuStatus.OK && g.info().known() && mode.isPresent() && mode.getAsDouble() == 0) {
                out.add(new NodeFinding(NodeCheck.PERSISTENCE_MODE, Subject.gpu(g.uuid()), Finding.degraded(name(),
                        "PERSISTENCE_MODE_OFF", "persistence mode is off on GPU " + g.index() + " (" + g.uuid()
                                + "): the driver tears the GPU down between jobs and the next one starts slowly",
                        "enable nvidia-persistenced (systemctl enable --now nvidia-persistenced) or nvidia-smi -pm 1")));
            }
        }
    }

    private void gpuCount(NodeSample node, List<NodeFinding> out) {
        Snapshot s = node.snapshot();
        if (node.expectedGpus().isEmpty() || !s.nvmlUp()) {
            return;
        }
        int expected = node.expectedGpus().getAsInt();
        if (s.deviceCount() < expected) {
            out.add(new NodeFinding(NodeCheck.GPU_COUNT, Subject.NODE, Finding.unhealthy(name(), "GPU_MISSING",
                    "the driver sees " + s.deviceCount() + " of " + expected + " expected GPUs: a GPU is off the bus",
                    "drain the node; check lspci and dmesg (XID 79, 'fallen off the bus'), reseat or replace the GPU and"
                            + " reboot", RepairAction.INSPECT_HARDWARE)));
        }
    }

    private void holders(HostSample host, Instant now, List<NodeFinding> out) {
        Set<String> present = new HashSet<>();
        List<String> stuck = new ArrayList<>(0);
        for (DeviceHolder h : host.holders()) {
            present.add(h.key());
            Instant since = holdersSince.computeIfAbsent(h.key(), k -> now);
            Duration held = Duration.between(since, now);
            if (held.compareTo(holderLimit) >= 0) {
                stuck.add(h.pid() + " (" + h.command() + ") on " + h.device() + " for " + held.toSeconds() + " s");
            }
        }
        holdersSince.keySet().retainAll(present);
        if (!stuck.isEmpty()) {
            out.add(new NodeFinding(NodeCheck.DEVICE_HOLDERS, Subject.NODE, Finding.unhealthy(name(), "DEVICE_HOLDER_STUCK",
                    stuck.size() + " process(es) stuck in D state holding an NVIDIA device file: " + String.join(", ", stuck)
                            + " (a driver call that does not return)",
                    "drain the node and reboot it (a process in D state cannot be killed); look for XIDs in dmesg",
                    RepairAction.REBOOT)));
        }
    }

    private static long mib(long bytes) {
        return bytes / (1024 * 1024);
    }
}
