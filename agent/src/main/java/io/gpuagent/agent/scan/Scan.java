package io.gpuagent.agent.scan;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.agent.HostConfigSource;
import io.gpuagent.agent.health.ExpectedTopology;
import io.gpuagent.agent.health.GpuHealth;
import io.gpuagent.agent.health.HealthConfig;
import io.gpuagent.agent.health.HealthEngine;
import io.gpuagent.agent.health.NodeHealth;
import io.gpuagent.agent.health.NodeJudge;
import io.gpuagent.agent.health.NodeReason;
import io.gpuagent.agent.health.Reason;
import io.gpuagent.agent.health.detect.HealthState;
import io.gpuagent.agent.health.detect.NodeSample;
import io.gpuagent.agent.host.Adjtimex;
import io.gpuagent.agent.host.ClockSync;
import io.gpuagent.agent.host.HostReader;
import io.gpuagent.agent.host.HostSample;
import io.gpuagent.exporter.NvmlSource;
import io.gpuagent.exporter.Reading;
import io.gpuagent.exporter.Sampler;
import io.gpuagent.exporter.SamplerSettings;
import io.gpuagent.exporter.Snapshot;
import io.gpuagent.nvml.Nvml;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.quarkus.runtime.configuration.DurationConverter;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * {@code gpu-agent scan} (docs/node-health.md#scan): every check once, without the HTTP server, the event log or
 * any write to the state directory, so it runs on a host before the agent is installed or beside a running agent
 * (NVML serves several processes; the scan only reads). Configured like the service: {@code GPU_AGENT_*}
 * environment variables, {@code -D} flags and {@code /etc/gpu-agent/agent.properties} (or
 * {@code GPU_AGENT_CONFIG}). Prints a table (or {@code --json}); exits 0 when everything is HEALTHY, 1 when
 * anything is not, 2 on a usage error.
 */
public final class Scan {

    /** One scan's rows and whether all are HEALTHY. */
    public record Result(boolean ok, List<ScanRow> rows) {
    }

    private Scan() {
    }

    /** {@code scan [--json]}: configures, opens NVML, scans, prints; returns the exit status. */
    public static int run(List<String> args, PrintStream out, PrintStream err) {
        boolean json = false;
        for (String a : args) {
            if (a.equals("--json")) {
                json = true;
            } else if (a.equals("--help") || a.equals("-h")) {
                out.println("usage: gpu-agent scan [--json]\n  runs every health check once (GPUs through NVML, the host,"
                        + " InfiniBand) and prints the result;\n  exit status 0 all healthy, 1 something is wrong,"
                        + " 2 usage error. Configured like the service\n  (GPU_AGENT_* variables, /etc/gpu-agent/agent.properties).");
                return 0;
            } else {
                err.println("gpu-agent scan: unknown argument '" + a + "'; usage: gpu-agent scan [--json]");
                return 2;
            }
        }
        SmallRyeConfig config;
        try {
            config = config(Map.of());
        } catch (RuntimeException e) {
            err.println("gpu-agent scan: the configuration is not valid: " + e.getMessage());
            return 2;
        }
        HealthConfig health = config.getConfigMapping(HealthConfig.class);
        String library = config.getOptionalValue("gpu-agent.nvml.library", String.class).orElse("libnvidia-ml.so.1");
        Path stateDir = config.getOptionalValue("gpu-agent.state-dir", Path.class).orElse(Path.of("/var/lib/gpu-agent"));
        Nvml nvml = null;
        String nvmlDown = null;
        try {
            nvml = Nvml.open(library);
        } catch (RuntimeException e) {
            nvmlDown = "cannot open NVML (" + library + "): " + e.getMessage();
        }
        try {
            Result r = scan(nvml, nvmlDown, health, stateDir, new Adjtimex(), Clock.systemUTC());
            print(r, json, out);
            return r.ok() ? 0 : 1;
        } finally {
            if (nvml != null) {
                nvml.close();
            }
        }
    }

    /** The service's configuration sources (and {@code overrides} above them, for tests). */
    static SmallRyeConfig config(Map<String, String> overrides) {
        SmallRyeConfigBuilder b = new SmallRyeConfigBuilder().addDefaultSources().withMapping(HealthConfig.class)
                .withConverter(Duration.class, 200, new DurationConverter())
                .withSources(HostConfigSource.sources(Path.of(System.getenv().getOrDefault("GPU_AGENT_CONFIG",
                        HostConfigSource.DEFAULT_FILE))));
        if (!overrides.isEmpty()) {
            b.withSources(new io.smallrye.config.PropertiesConfigSource(overrides, "scan", 1000));
        }
        return b.build();
    }

    /**
     * Every check once: one sweep of the GPUs through {@code nvml} (null when it could not be opened, with
     * {@code nvmlDown} saying why), the GPU detectors, one host read and the node checks. Writes nothing.
     */
    public static Result scan(Nvml nvml, String nvmlDown, HealthConfig config, Path stateDir, Supplier<ClockSync> clock,
                              Clock time) {
        Instant now = time.instant();
        List<ScanRow> rows = new ArrayList<>();
        Snapshot snapshot;
        if (nvml == null) {
            snapshot = new Snapshot(1, now, false, nvmlDown, "", 0, List.of());
            rows.add(new ScanRow("nvml", "node", "UNHEALTHY", nvmlDown,
                    "install the NVIDIA driver, or point GPU_AGENT_NVML_LIBRARY at libnvidia-ml.so.1"));
        } else {
            SamplerSettings settings = SamplerSettings.defaults().withReadings(Reading.health());
            try (Sampler sampler = new Sampler(NvmlSource.of(nvml), settings, new SimpleMeterRegistry(), time)) {
                snapshot = sampler.sweepNow();
            }
            HealthEngine engine = new HealthEngine(config, time);
            engine.onSnapshot(snapshot);
            for (GpuHealth g : engine.gpus()) {
                String subject = "GPU " + g.index() + " (" + g.uuid() + ")";
                if (g.reasons().isEmpty()) {
                    rows.add(new ScanRow("gpu", subject, g.state() == HealthState.INITIALIZING ? "HEALTHY"
                            : g.state().name(), "", ""));
                }
                for (Reason r : g.reasons()) {
                    rows.add(new ScanRow(r.detector(), subject, r.state().name(), r.code() + ": " + r.message(), r.action()));
                }
            }
        }
        HostReader reader = new HostReader(config.node().root(), existing(stateDir), clock);
        HostSample host = reader.read(now);
        ExpectedTopology.Expected expected = new ExpectedTopology(config.expectedGpus(), config.nvlink().expectedLinks(),
                stateDir).expected(snapshot, false);
        NodeJudge judge = new NodeJudge(NodeJudge.detectors(config), config.hysteresis(), now);
        judge.onSample(new NodeSample(host, snapshot, expected.gpus(), expected.nvLinks()), now);
        NodeHealth node = judge.health();
        Map<String, List<NodeReason>> byCheck = new LinkedHashMap<>();
        node.checks().forEach(c -> byCheck.put(c.check(), new ArrayList<>()));
        node.reasons().forEach(r -> byCheck.get(r.check()).add(r));
        byCheck.forEach((check, reasons) -> {
            if (reasons.isEmpty()) {
                rows.add(new ScanRow(check, "node", "HEALTHY", "", ""));
            }
            for (NodeReason r : reasons) {
                rows.add(new ScanRow(check, r.subject(), r.state().name(), r.code() + ": " + r.message(), r.action()));
            }
        });
        return new Result(rows.stream().allMatch(ScanRow::healthy), List.copyOf(rows));
    }

    /** The state directory, or its nearest existing parent (before the package is installed): for its free space. */
    private static Path existing(Path dir) {
        Path p = dir.toAbsolutePath();
        while (p != null && !Files.isDirectory(p)) {
            p = p.getParent();
        }
        return p == null ? Path.of("/") : p;
    }

    static void print(Result r, boolean json, PrintStream out) {
        if (json) {
            try {
                out.println(new ObjectMapper().writeValueAsString(r));
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
            return;
        }
        String[] head = {"CHECK", "GPU OR PORT", "STATE", "REASON", "FIX"};
        int[] width = {head[0].length(), head[1].length(), head[2].length()};
        for (ScanRow row : r.rows()) {
            width[0] = Math.max(width[0], row.check().length());
            width[1] = Math.max(width[1], row.subject().length());
            width[2] = Math.max(width[2], row.state().length());
        }
        String format = "%-" + width[0] + "s  %-" + width[1] + "s  %-" + width[2] + "s  %s%s%n";
        out.printf(format, head[0], head[1], head[2], head[3], "  |  " + head[4]);
        for (ScanRow row : r.rows()) {
            out.printf(format, row.check(), row.subject(), row.state(), row.reason(),
                    row.fix().isEmpty() ? "" : "  |  " + row.fix());
        }
        out.println(r.ok() ? "all checks pass" : "something is wrong: see the rows that are not HEALTHY");
    }
}
