package io.gpuagent.agent.host;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Supplier;

/**
 * Reads a {@link HostSample} from files under a root ({@code /} on a host, a fixture tree in tests): the
 * nvidia module's version, D-state holders of {@code /dev/nvidia*} ({@code proc/<pid>/stat} and the
 * {@code fd} links only), InfiniBand ports ({@code sys/class/infiniband}), the Fabric Manager service (its
 * systemd cgroup), the state directory's free space
 * and the clock ({@link ClockSync} from a supplier: adjtimex on a host, a fixed value in tests). The parsing
 * is in static methods that take text, so it is tested without files. Every walk is bounded.
 */
public final class HostReader {

    /** At most this many processes are looked at per read (pid_max is 4M; a node runs far fewer). */
    public static final int MAX_PROCESSES = 65_536;
    /** At most this many descriptors of one D-state process are looked at. */
    public static final int MAX_FDS = 4_096;
    /** At most this many D-state holders are reported. */
    public static final int MAX_HOLDERS = 16;
    /** At most this many InfiniBand/RoCE ports are read (an 8-GPU node has 8 to 10). */
    public static final int MAX_PORTS = 64;

    private final Path root;
    private final Path stateDir;
    private final Supplier<ClockSync> clock;

    /**
     * @param root     where {@code proc/} and {@code sys/} are ({@code /} on a host)
     * @param stateDir the agent's state directory (not under {@code root}: it is the agent's own)
     * @param clock    asks the kernel whether its clock is synchronised
     */
    public HostReader(Path root, Path stateDir, Supplier<ClockSync> clock) {
        this.root = root;
        this.stateDir = stateDir;
        this.clock = clock;
    }

    public HostSample read(Instant now) {
        List<String> problems = new ArrayList<>(0);
        Optional<String> module = kernelModule(problems);
        List<DeviceHolder> holders = holders(problems);
        List<IbPort> ports = ibPorts(problems);
        OptionalLong free = OptionalLong.empty();
        try {
            free = OptionalLong.of(Files.getFileStore(stateDir).getUsableSpace());
        } catch (IOException | RuntimeException e) {
            problems.add("cannot read the free space of the state directory " + stateDir + ": " + e.getMessage());
        }
        ClockSync sync;
        try {
            sync = clock.get();
        } catch (RuntimeException e) {
            sync = ClockSync.unknown("cannot ask the kernel about the clock: " + e.getMessage());
        }
        return new HostSample(now, true, module, holders, free, sync, ports, fabricManager(), problems);
    }

    /**
     * The Fabric Manager's service: installed when {@code usr/bin/nv-fabricmanager} exists, running when its systemd
     * cgroup (v2, else v1) lists a process. No D-Bus, no systemctl: a file read like the rest.
     */
    private Optional<Boolean> fabricManager() {
        if (!Files.exists(root.resolve("usr/bin/nv-fabricmanager"))) {
            return Optional.empty();
        }
        for (String cgroup : List.of("sys/fs/cgroup/system.slice/nvidia-fabricmanager.service/cgroup.procs",
                "sys/fs/cgroup/systemd/system.slice/nvidia-fabricmanager.service/cgroup.procs")) {
            Optional<String> procs = text(root.resolve(cgroup));
            if (procs.isPresent()) {
                return Optional.of(!procs.get().isBlank());
            }
        }
        return Optional.of(false);
    }

    private Optional<String> kernelModule(List<String> problems) {
        Path version = root.resolve("sys/module/nvidia/version");
        try {
            return Optional.of(Files.readString(version, StandardCharsets.US_ASCII).strip());
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            problems.add("cannot read " + version + ": " + e.getMessage());
            return Optional.empty();
        }
    }

    private List<DeviceHolder> holders(List<String> problems) {
        Path proc = root.resolve("proc");
        List<DeviceHolder> out = new ArrayList<>(0);
        int seen = 0;
        try (DirectoryStream<Path> pids = Files.newDirectoryStream(proc, p -> isPid(p.getFileName().toString()))) {
            for (Path dir : pids) {
                if (++seen > MAX_PROCESSES || out.size() >= MAX_HOLDERS) {
                    break;
                }
                Optional<ProcStat> stat = stat(dir);
                if (stat.isEmpty() || stat.get().state() != 'D') {
                    continue;
                }
                nvidiaFile(dir.resolve("fd")).ifPresent(dev -> out.add(new DeviceHolder(stat.get().pid(),
                        stat.get().startTicks(), stat.get().command(), dev)));
            }
        } catch (IOException e) {
            problems.add("cannot list " + proc + ": " + e.getMessage());
        }
        return out;
    }

    private static Optional<ProcStat> stat(Path dir) {
        try {
            return ProcStat.parse(Files.readString(dir.resolve("stat"), StandardCharsets.UTF_8));
        } catch (IOException e) {
            return Optional.empty();   // gone since the listing, or not ours to read
        }
    }

    /** The first {@code /dev/nvidia*} the process holds open, if any. */
    private static Optional<String> nvidiaFile(Path fds) {
        int n = 0;
        try (DirectoryStream<Path> links = Files.newDirectoryStream(fds)) {
            for (Path link : links) {
                if (++n > MAX_FDS) {
                    break;
                }
                try {
                    String target = Files.readSymbolicLink(link).toString();
                    if (target.startsWith("/dev/nvidia")) {
                        return Optional.of(target);
                    }
                } catch (IOException | UnsupportedOperationException e) {
                    // closed since the listing
                }
            }
        } catch (IOException e) {
            // gone, or not ours to read (run as root to see every process)
        }
        return Optional.empty();
    }

    private List<IbPort> ibPorts(List<String> problems) {
        Path base = root.resolve("sys/class/infiniband");
        if (!Files.isDirectory(base)) {
            return List.of();
        }
        List<IbPort> out = new ArrayList<>();
        try (DirectoryStream<Path> devices = Files.newDirectoryStream(base)) {
            List<Path> sorted = new ArrayList<>();
            devices.forEach(sorted::add);
            sorted.sort(null);
            for (Path device : sorted) {
                Path portsDir = device.resolve("ports");
                if (!Files.isDirectory(portsDir)) {
                    continue;
                }
                List<Path> ports = new ArrayList<>();
                try (DirectoryStream<Path> ps = Files.newDirectoryStream(portsDir, p -> isPid(p.getFileName().toString()))) {
                    ps.forEach(ports::add);
                }
                ports.sort(null);
                for (Path port : ports) {
                    if (out.size() >= MAX_PORTS) {
                        problems.add("more than " + MAX_PORTS + " InfiniBand ports; the rest are not checked");
                        return out;
                    }
                    out.add(port(device.getFileName().toString(), port, problems));
                }
            }
        } catch (IOException e) {
            problems.add("cannot list " + base + ": " + e.getMessage());
        }
        return out;
    }

    private static IbPort port(String device, Path dir, List<String> problems) {
        int n = Integer.parseInt(dir.getFileName().toString());
        Map<String, Long> counters = new HashMap<>();
        for (String c : IbPort.COUNTERS) {
            text(dir.resolve("counters").resolve(c)).ifPresent(t -> {
                try {
                    counters.put(c, Long.parseLong(t.strip()));
                } catch (NumberFormatException e) {
                    problems.add(dir.resolve("counters").resolve(c) + " is not a number: " + t.strip());
                }
            });
        }
        return new IbPort(device, n, text(dir.resolve("state")).map(IbPort::word).orElse(""),
                text(dir.resolve("phys_state")).map(IbPort::word).orElse(""),
                text(dir.resolve("rate")).map(IbPort::rate).orElse(java.util.OptionalDouble.empty()),
                text(dir.resolve("link_layer")).map(String::strip).orElse(""), counters);
    }

    private static Optional<String> text(Path file) {
        try {
            return Optional.of(Files.readString(file, StandardCharsets.US_ASCII));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static boolean isPid(String name) {
        if (name.isEmpty() || name.length() > 10) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            if (name.charAt(i) < '0' || name.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }
}
