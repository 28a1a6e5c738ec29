package io.gpuagent.agent.health;

import io.gpuagent.exporter.GpuSample;
import io.gpuagent.exporter.GpuStatus;
import io.gpuagent.exporter.Snapshot;
import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.OptionalInt;
import java.util.Properties;
import org.jboss.logging.Logger;

/**
 * The GPU count this node should have: {@code gpu-agent.health.expected-gpus} when set, else the count of the
 * first healthy start (NVML up, every GPU read), learned once and kept in {@code <state-dir>/expected-topology.properties}
 * ({@code gpus=8}) so that a GPU missing at a later start is a node fault. Delete the file (or set the key) after
 * changing the hardware on purpose.
 */
public final class ExpectedTopology {

    private static final Logger LOG = Logger.getLogger(ExpectedTopology.class);
    static final String FILE = "expected-topology.properties";

    private final OptionalInt configured;
    private final Path file;
    private OptionalInt learned;

    public ExpectedTopology(OptionalInt configured, Path stateDir) {
        this.configured = configured;
        this.file = stateDir.resolve(FILE);
        this.learned = load(file);
    }

    /** The expected count, learning it from {@code snapshot} when it is the first healthy one; empty when unknown. */
    public synchronized OptionalInt expectedGpus(Snapshot snapshot, boolean learn) {
        if (configured.isPresent()) {
            return configured;
        }
        if (learned.isEmpty() && learn && healthy(snapshot)) {
            learned = OptionalInt.of(snapshot.deviceCount());
            store(snapshot.deviceCount());
        }
        return learned;
    }

    private static boolean healthy(Snapshot s) {
        if (!s.nvmlUp() || s.deviceCount() == 0 || s.gpus().size() != s.deviceCount()) {
            return false;
        }
        for (GpuSample g : s.gpus()) {
            if (g.status() != GpuStatus.OK) {
                return false;
            }
        }
        return true;
    }

    private static OptionalInt load(Path file) {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
            String gpus = p.getProperty("gpus");
            if (gpus == null) {
                LOG.warnf("%s has no gpus=N line; the GPU count is learned again at this start", file);
                return OptionalInt.empty();
            }
            return OptionalInt.of(Integer.parseInt(gpus.strip()));
        } catch (NoSuchFileException e) {
            return OptionalInt.empty();
        } catch (IOException | NumberFormatException e) {
            LOG.warnf("cannot read %s (%s); the GPU count is learned again at this start; fix or delete the file", file,
                    e.getMessage());
            return OptionalInt.empty();
        }
    }

    private void store(int gpus) {
        Path tmp = file.resolveSibling(FILE + ".tmp");
        try {
            try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                w.write("# Learned by gpu-agent at its first healthy start; fewer GPUs later is the node fault GPU_MISSING.\n"
                        + "# Delete this file (or set gpu-agent.health.expected-gpus) after changing the hardware.\n"
                        + "gpus=" + gpus + "\n");
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            LOG.infof("learned the expected GPU count %d, kept in %s", gpus, file);
        } catch (IOException e) {
            LOG.warnf("cannot keep the learned GPU count in %s (%s); it is learned again at the next start", file,
                    e.getMessage());
        }
    }
}
