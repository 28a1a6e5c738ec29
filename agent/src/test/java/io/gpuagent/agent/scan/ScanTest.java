package io.gpuagent.agent.scan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.agent.health.HealthConfig;
import io.gpuagent.agent.host.ClockSync;
import io.gpuagent.nvml.fake.FakeNvml;
import io.gpuagent.nvml.fake.Scenario;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code gpu-agent scan} over the fake driver and the host fixture trees (issue 23's acceptance for the scan). */
class ScanTest {

    static final ClockSync SYNCED = new ClockSync(ClockSync.Status.SYNCHRONISED, 0, "test");

    @TempDir
    Path stateDir;

    @BeforeEach
    void open() {
        FakeNvml.shared();   // the fake applies a scenario once it is loaded
    }

    @AfterEach
    void restore() {
        FakeNvml.write(Scenario.defaults());
    }

    private Scan.Result scan(String machine) {
        HealthConfig config = Scan.config(Map.of("gpu-agent.health.node.root", "src/test/resources/host/" + machine,
                "gpu-agent.health.expected-gpus", "8", "gpu-agent.health.ib.expected-ports", "8",
                "gpu-agent.health.ib.expected-rate-gbps", "400")).getConfigMapping(HealthConfig.class);
        return Scan.scan(FakeNvml.shared(), null, config, stateDir, () -> SYNCED, Clock.systemUTC());
    }

    private static String printed(Scan.Result r, boolean json) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Scan.print(r, json, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void aHealthyNodePassesWithARowPerGpuAndPerNodeCheck() {
        FakeNvml.apply("gpus = 8");
        Scan.Result r = scan("dgx-h100");
        assertTrue(r.ok(), printed(r, false));
        assertEquals(8 + 14, r.rows().size(), printed(r, false));
        String table = printed(r, false);
        assertTrue(table.startsWith("CHECK"), table);
        assertTrue(table.strip().endsWith("all checks pass"), table);
    }

    @Test
    void aFaultyNodeFailsWithEachFaultAndItsFixAndTheJsonParses() throws Exception {
        FakeNvml.apply("gpus = 7", "gpu.2.persistence_mode = 0", "gpu.3.fabric.state = 1", "gpu.4.fabric.health_mask = 1");
        Scan.Result r = scan("dgx-h100-faults");
        assertFalse(r.ok());
        List<String> codes = r.rows().stream().filter(row -> !row.healthy())
                .map(row -> row.check() + " " + row.reason().replaceFirst(":.*", "")).toList();
        for (String expected : List.of("kernel_module DRIVER_VERSION_MISMATCH", "gpu_count GPU_MISSING",
                "persistence_mode PERSISTENCE_MODE_OFF", "ib_ports IB_PORT_DOWN", "ib_rate IB_PORT_RATE", "nvlink_fabric FABRIC_NOT_STARTED",
                "nvlink_fabric FABRIC_DEGRADED_BANDWIDTH")) {
            assertTrue(codes.contains(expected), expected + " in " + codes);
        }
        assertTrue(r.rows().stream().filter(row -> !row.healthy()).allMatch(row -> !row.fix().isEmpty()),
                printed(r, false));
        JsonNode json = new ObjectMapper().readTree(printed(r, true));
        assertFalse(json.get("ok").asBoolean());
        assertEquals(r.rows().size(), json.get("rows").size());
        assertEquals("gpu_count", json.get("rows").findValues("check").stream().map(JsonNode::asText)
                .filter(c -> c.equals("gpu_count")).findFirst().orElseThrow());
    }

    @Test
    void withoutNvmlTheScanSaysSoAndStillChecksTheHost() {
        HealthConfig config = Scan.config(Map.of("gpu-agent.health.node.root", "src/test/resources/host/dgx-h100"))
                .getConfigMapping(HealthConfig.class);
        Scan.Result r = Scan.scan(null, "cannot open NVML (libnvidia-ml.so.1): not found", config, stateDir,
                () -> SYNCED, Clock.systemUTC());
        assertFalse(r.ok());
        assertEquals("nvml", r.rows().getFirst().check());
        assertTrue(r.rows().getFirst().fix().contains("GPU_AGENT_NVML_LIBRARY"));
        assertEquals(15, r.rows().size(), printed(r, false));
    }

    @Test
    void anUnknownArgumentIsAUsageError() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(2, Scan.run(List.of("--jsn"), System.out, new PrintStream(err, true, StandardCharsets.UTF_8)));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("unknown argument '--jsn'"));
    }
}
