package io.gpuagent.agent.host;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * What the host under the GPUs looked like at one read ({@link HostReader}), immutable. Each part that could not
 * be read says so in {@code problems} (the host-read check reports them) and is left empty.
 *
 * @param read               false when nothing was read (before the first read, or the read missed its deadline)
 * @param kernelModule       {@code sys/module/nvidia/version}; empty when the module is not loaded
 * @param holders            processes in D state holding {@code /dev/nvidia*} (at most {@link HostReader#MAX_HOLDERS})
 * @param stateDirFreeBytes  usable bytes left in the state directory's file system; empty when unknown
 * @param ibPorts            every InfiniBand/RoCE port (at most {@link HostReader#MAX_PORTS})
 * @param fabricManagerRunning whether nvidia-fabricmanager.service has processes (its systemd cgroup); empty when
 *                           the Fabric Manager is not installed ({@code usr/bin/nv-fabricmanager})
 * @param problems           what could not be read, one sentence each
 */
public record HostSample(Instant takenAt, boolean read, Optional<String> kernelModule, List<DeviceHolder> holders,
                         OptionalLong stateDirFreeBytes, ClockSync clock, List<IbPort> ibPorts,
                         Optional<Boolean> fabricManagerRunning, List<String> problems) {

    public HostSample {
        holders = List.copyOf(holders);
        ibPorts = List.copyOf(ibPorts);
        problems = List.copyOf(problems);
    }

    /** Nothing read (before the first read, or when the read missed its deadline). */
    public static HostSample unread(Instant at, String why) {
        return new HostSample(at, false, Optional.empty(), List.of(), OptionalLong.empty(), ClockSync.unknown(why), List.of(),
                Optional.empty(), List.of(why));
    }
}
