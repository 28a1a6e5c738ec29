package io.gpuagent.nvml;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Which processes hold the NVIDIA device files open ({@code /dev/nvidiactl}, {@code /dev/nvidia<N>}), read
 * from {@code /proc/<pid>/fd}. The driver refuses a GPU reset while any process holds the GPU: another
 * exporter, DCGM's host engine ({@code nv-hostengine}), {@code nvidia-persistenced}, a job. This says who,
 * so that a refused reset names them. Only processes whose descriptors this user may read are seen (as
 * root: all of them); at most {@value #MAX_REPORTED} are listed. The agent's reset and the real-GPU kit use it.
 */
public final class DeviceHolders {
    public static final int MAX_REPORTED = 16;
    private static final Pattern NVIDIA_DEVICE = Pattern.compile("/dev/nvidia(ctl|\\d+)");

    /** One process and the NVIDIA device files it holds. */
    public record Holder(long pid, String command, List<String> devices) {
        @Override
        public String toString() {
            return pid + " (" + command + ": " + String.join(", ", devices) + ")";
        }
    }

    private final Path proc;

    public DeviceHolders(Path proc) {
        this.proc = proc;
    }

    public static DeviceHolders system() {
        return new DeviceHolders(Path.of("/proc"));
    }

    /** The NVIDIA device files this process holds open now. */
    public List<String> ofThisProcess() {
        return List.copyOf(devicesOf(proc.resolve(Long.toString(ProcessHandle.current().pid()))));
    }

    /** Every process (this one included) holding an NVIDIA device file, by pid; never throws. */
    public List<Holder> scan() {
        Map<Long, Holder> found = new TreeMap<>();
        try (DirectoryStream<Path> pids = Files.newDirectoryStream(proc, p -> p.getFileName().toString().matches("\\d+"))) {
            for (Path pidDir : pids) {
                if (found.size() >= MAX_REPORTED) {
                    break;
                }
                TreeSet<String> devices = devicesOf(pidDir);
                if (!devices.isEmpty()) {
                    long pid = Long.parseLong(pidDir.getFileName().toString());
                    found.put(pid, new Holder(pid, command(pidDir), List.copyOf(devices)));
                }
            }
        } catch (IOException | RuntimeException e) {
            // /proc unreadable (a container without it): nothing to report
        }
        return List.copyOf(found.values());
    }

    private static TreeSet<String> devicesOf(Path pidDir) {
        TreeSet<String> devices = new TreeSet<>();
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(pidDir.resolve("fd"))) {
            for (Path fd : fds) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (NVIDIA_DEVICE.matcher(target).matches()) {
                        devices.add(target);
                    }
                } catch (IOException | UnsupportedOperationException e) {
                    // closed meanwhile
                }
            }
        } catch (IOException | RuntimeException e) {
            // not ours to read, or gone
        }
        return devices;
    }

    private static String command(Path pidDir) {
        try {
            return Files.readString(pidDir.resolve("comm")).strip();
        } catch (IOException e) {
            return "?";
        }
    }

    /** "1234 (nv-hostengine: /dev/nvidia0, /dev/nvidiactl), ..." or "none seen". */
    public static String describe(List<Holder> holders) {
        if (holders.isEmpty()) {
            return "none seen";
        }
        List<String> parts = new ArrayList<>(holders.size());
        for (Holder h : holders) {
            parts.add(h.toString());
        }
        return String.join(", ", parts);
    }
}
