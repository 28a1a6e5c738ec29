package io.gpuagent.agent.health;

import io.gpuagent.exporter.GpuSample;
import io.gpuagent.exporter.GpuStatus;
import io.gpuagent.exporter.Reading;
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
 * The GPU count and the active NVLink links per GPU this node should have: {@code gpu-agent.health.expected-gpus}
 * and {@code gpu-agent.health.nvlink.expected-links} when set, else what the first healthy start (NVML up, every
 * GPU read) showed, learned once and kept in {@code <state-dir>/expected-topology.properties} ({@code gpus=8},
 * {@code nvlink-links=18}, the fewest of any GPU; absent without NVLink) so that a GPU or a link missing at a later
 * start is a node fault. Delete the file (or set the keys) after changing the hardware on purpose.
 */
public final class ExpectedTopology {

    private static final Logger LOG = Logger.getLogger(ExpectedTopology.class);
    static final String FILE = "expected-topology.properties";

    /** The expected counts; empty where neither configured nor learned. */
    public record Expected(OptionalInt gpus, OptionalInt nvLinks) {
    }

    private OptionalInt configuredGpus;    // guarded by this; a configuration reload may change them
    private OptionalInt configuredLinks;   // guarded by this
    private final Path file;
    private Expected learned;   // null until learned or loaded

    public ExpectedTopology(OptionalInt configuredGpus, OptionalInt configuredLinks, Path stateDir) {
        this.configuredGpus = configuredGpus;
        this.configuredLinks = configuredLinks;
        this.file = stateDir.resolve(FILE);
        this.learned = load(file);
    }

    /** Takes the configured counts of a configuration reload; what was learned stays learned. */
    public synchronized void configure(OptionalInt gpus, OptionalInt links) {
        configuredGpus = gpus;
        configuredLinks = links;
    }

    /**
     * The expected counts, learning them from {@code snapshot} when it is the first healthy one and {@code learn}
     * (a scan never learns); a configured key wins over what was learned.
     */
    public synchronized Expected expected(Snapshot snapshot, boolean learn) {
        if (learned == null && learn && healthy(snapshot)) {
            int fewest = Integer.MAX_VALUE;
            for (GpuSample g : snapshot.gpus()) {
                fewest = Math.min(fewest, (int) g.valueOr(Reading.NVLINK_LINKS, 0));
            }
            learned = new Expected(OptionalInt.of(snapshot.deviceCount()),
                    fewest > 0 && fewest != Integer.MAX_VALUE ? OptionalInt.of(fewest) : OptionalInt.empty());
            store(learned);
        }
        OptionalInt gpus = configuredGpus.isPresent() || learned == null ? configuredGpus : learned.gpus();
        OptionalInt links = configuredLinks.isPresent() || learned == null ? configuredLinks : learned.nvLinks();
        return new Expected(gpus, links);
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

    private static Expected load(Path file) {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
            String gpus = p.getProperty("gpus");
            if (gpus == null) {
                LOG.warnf("%s has no gpus=N line; the topology is learned again at this start", file);
                return null;
            }
            String links = p.getProperty("nvlink-links");
            return new Expected(OptionalInt.of(Integer.parseInt(gpus.strip())),
                    links == null ? OptionalInt.empty() : OptionalInt.of(Integer.parseInt(links.strip())));
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException | NumberFormatException e) {
            LOG.warnf("cannot read %s (%s); the topology is learned again at this start; fix or delete the file", file,
                    e.getMessage());
            return null;
        }
    }

    private void store(Expected e) {
        Path tmp = file.resolveSibling(FILE + ".tmp");
        try {
            try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                w.write("# Learned by gpu-agent at its first healthy start; fewer GPUs (links) later is GPU_MISSING (NVLINK_LINKS_MISSING).\n"
                        + "# Delete this file (or set gpu-agent.health.expected-gpus) after changing the hardware.\n"
                        + "gpus=" + e.gpus().getAsInt() + "\n"
                        + (e.nvLinks().isPresent() ? "nvlink-links=" + e.nvLinks().getAsInt() + "\n" : ""));
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            LOG.infof("learned the expected topology (%d GPUs, NVLink links per GPU: %s), kept in %s", e.gpus().getAsInt(),
                    e.nvLinks().isPresent() ? Integer.toString(e.nvLinks().getAsInt()) : "none", file);
        } catch (IOException x) {
            LOG.warnf("cannot keep the learned topology in %s (%s); it is learned again at the next start", file,
                    x.getMessage());
        }
    }
}
