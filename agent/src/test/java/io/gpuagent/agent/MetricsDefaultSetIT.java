package io.gpuagent.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.exporter.CountersFile;
import io.gpuagent.exporter.DefaultSet;
import io.gpuagent.exporter.MetricDef;
import io.gpuagent.exporter.MetricType;
import io.gpuagent.nvml.fake.Machines;
import io.gpuagent.nvml.fake.Scenario;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code gpu-agent.metrics.default-set} and dcgm-exporter's own families in the packaged agent on the fake
 * driver: the 4.10 set is served with its driver label, and a counters file with both generations of names
 * serves DCGM_EXP_XID_ERRORS_TOTAL from the driver's XID events, counted as gpu_agent_xid_errors_total counts.
 */
class MetricsDefaultSetIT {
    static final Duration WAIT = Duration.ofSeconds(30);

    static Scenario machine() {
        return Machines.dgxH100().driverVersion("550.54.15").all("gpm.1", 50).all("gpm.5", 25).all("gpm.10", 12.5);
    }

    @Test
    void theDcgmExporter410SetIsServedWithItsDriverLabel() throws Exception {
        try (PackagedAgent agent = PackagedAgent.named("default-set-410").scenario(machine().text())
                .property("gpu-agent.metrics.default-set", "dcgm-exporter-4.10").start()) {
            List<MetricDef> set = CountersFile.bundled(DefaultSet.DCGM_EXPORTER_4_10).metrics();
            agent.await(WAIT, () -> {
                String text = agent.body("/metrics");
                for (MetricDef m : set) {
                    if (m.type() != MetricType.LABEL) {
                        assertEquals(8, text.lines().filter(l -> l.startsWith(m.name() + "{")).count(), m.name());
                    }
                }
            });
            String text = agent.body("/metrics");
            assertTrue(text.contains(",DCGM_FI_SYSTEM_DRIVER_VERSION=\"550.54.15\""), text);
            assertFalse(text.contains("DCGM_FI_DRIVER_VERSION="), "the 4.10 set names the driver label as 4.9+ does");
            assertFalse(text.contains("DCGM_FI_DEV_SM_CLOCK{"), "an older name of a renamed row is not served");
            assertTrue(agent.log().contains("classpath:dcgm-exporter-4.10-counters.csv"), agent.log());
        }
    }

    @Test
    void anUnknownSetStopsTheStartNamingTheAcceptedOnes() throws Exception {
        try (PackagedAgent agent = PackagedAgent.named("default-set-unknown")
                .property("gpu-agent.metrics.default-set", "dcgm-exporter-4.9").start()) {
            assertTrue(agent.process().waitFor(90, java.util.concurrent.TimeUnit.SECONDS), "the agent did not stop");
            assertNotEquals(0, agent.process().exitValue());
            assertTrue(agent.log().contains("use one of legacy, dcgm-exporter-4.10"), agent.log());
        }
    }

    @Test
    void bothGenerationsAndTheXidTotalsFromOneCountersFile() throws Exception {
        Path dir = Files.createDirectories(Path.of("target", "it-agents"));
        Path counters = Files.createTempFile(dir, "both-generations", ".csv");
        Files.writeString(counters, """
                DCGM_FI_DEV_SM_CLOCK,                 gauge,   SM clock frequency (in MHz).
                DCGM_FI_DEV_SM_CLOCK_HERTZ,           gauge,   SM clock frequency (in Hz).
                DCGM_FI_DEV_GPU_TEMP,                 gauge,   GPU temperature (in C).
                DCGM_EXP_XID_ERRORS_TOTAL,            counter, Total XID errors observed since exporter start.
                DCGM_EXP_CLOCK_EVENTS_TOTAL,          counter, Total clock events observed since exporter start (edge-counted).
                DCGM_FI_SYSTEM_DRIVER_VERSION,        label,   Driver Version
                """);
        Scenario scenario = machine().all("clock_sm", 1755);
        try (PackagedAgent agent = PackagedAgent.named("both-generations").scenario(scenario.text())
                .property("gpu-agent.counters-file", counters).start()) {
            agent.awaitScrape().awaitWatching();
            String before = agent.body("/metrics");
            assertTrue(Pattern.compile("(?m)^DCGM_FI_DEV_SM_CLOCK_HERTZ\\{gpu=\"3\",.*} 1755000000$").matcher(before).find(),
                    before);
            assertFalse(before.contains("DCGM_EXP_XID_ERRORS_TOTAL"), "no series before the first XID");

            agent.scenario(scenario.xid(3, 48).xid(3, 48).xid(3, 13).gpu(5, "clock_event_reasons", 0x1 | 0x20).text());
            agent.await(WAIT, () -> {
                String text = agent.body("/metrics");
                assertEquals(2, total(text, "DCGM_EXP_XID_ERRORS_TOTAL", 3, "xid=\"48\""), text);
                assertEquals(1, total(text, "DCGM_EXP_XID_ERRORS_TOTAL", 3, "xid=\"13\""), text);
                assertEquals(2, total(text, "gpu_agent_xid_errors_total", 3, "xid=\"48\""), "the same events, counted alike");
                assertEquals(1, total(text, "DCGM_EXP_CLOCK_EVENTS_TOTAL", 5, "clock_event=\"sw_thermal\""), text);
            });
        }
    }

    /** The value of the series of {@code name} on GPU {@code gpu} whose labels contain {@code label}. */
    private static double total(String text, String name, int gpu, String label) {
        Matcher m = Pattern.compile("(?m)^" + name + "\\{([^}]*)} (\\S+)$").matcher(text);
        while (m.find()) {
            if (m.group(1).contains("gpu=\"" + gpu + "\"") && m.group(1).contains(label)) {
                return Double.parseDouble(m.group(2));
            }
        }
        return 0;
    }
}
