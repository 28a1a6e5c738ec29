package io.gpuagent.agent.health;

import io.gpuagent.agent.health.detect.HealthState;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.agent.events.EventWatcher;
import io.gpuagent.agent.journal.AgentEvent;
import io.gpuagent.agent.journal.EventLog;
import io.gpuagent.agent.nvml.NvmlConnector;
import io.gpuagent.nvml.EventTypes;
import io.gpuagent.nvml.GpuEvent;
import io.gpuagent.nvml.fake.FakeNvml;
import io.gpuagent.nvml.fake.Machines;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.ValidatableResponse;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every detector row of docs/faults.md end to end through the fake NVML driver: the scenario raises the
 * condition, /health and /health/gpus/{i} show the state and reason, and when the condition goes the GPU
 * recovers after the (test profile's 1 s) hysteresis, or, for sticky reasons, after an operator clear.
 */
@QuarkusTest
class HealthScenarioTest {

    static final Duration RAISE = Duration.ofSeconds(5);
    static final Duration RECOVER = Duration.ofSeconds(8);
    /** Fresh fake-driver event numbers (the fake fires each once per process); other classes use other ranges. */
    @Inject
    HealthModel health;
    @Inject
    NvmlConnector nvml;
    @Inject
    EventLog events;
    @Inject
    EventWatcher watcher;

    @BeforeEach
    @AfterEach
    void everyGpuHealthy() {
        FakeNvml.write(Machines.dgxH100());
        FakeNvml.eventually(Duration.ofSeconds(15), () -> {
            // Sticky reasons from the previous test need a clear once their condition has gone.
            health.gpus().stream().filter(g -> g.state() != HealthState.HEALTHY)
                    .forEach(g -> health.clear(g.index(), g.uuid(), "test", "between tests"));
            given().get("/health").then().statusCode(200).body("status", equalTo("healthy"));
            assertEquals(8, health.gpus().size());
        });
    }

    static ValidatableResponse gpu(int index) {
        return given().get("/health/gpus/" + index).then();
    }

    /** Sets {@code key} on GPU {@code index} of a DGX H100, then {@link #awaitState}. */
    static void raise(int index, String key, Object value, HealthState state, String code) {
        FakeNvml.write(Machines.dgxH100().gpu(index, key, value));
        awaitState(index, state, code);
    }

    /** Waits until GPU {@code index} is in {@code state} with a reason {@code code}; checks the status code. */
    static void awaitState(int index, HealthState state, String code) {
        FakeNvml.eventually(RAISE, () -> gpu(index).statusCode(state.serving() ? 200 : 503)
                .body("state", equalTo(state.name())).body("reasons.code", hasItem(code)));
    }

    /** The condition is gone: the GPU stays as it is for the hysteresis window, then is HEALTHY again. */
    static void awaitRecoveryAfterHysteresis(int index) {
        HealthState before = HealthState.valueOf(gpu(index).extract().path("state"));
        FakeNvml.write(Machines.dgxH100());
        // Time passing inside the window: the sampler sees the change within an interval (200 ms) and the
        // hysteresis is 1 s, counted from the change or, for an XID, from the event.
        sleep(600);
        gpu(index).body("state", equalTo(before.name()));
        FakeNvml.eventually(RECOVER, () -> gpu(index).statusCode(200).body("state", equalTo("HEALTHY"))
                .body("reasons.size()", equalTo(0)));
    }

    /** A sticky reason outlasts its condition by far more than the hysteresis; an operator clear removes it. */
    void awaitStickyThenClear(int index, String code) {
        FakeNvml.apply(Machines.dgxH100());
        sleep(2_500);   // time passing, far past the hysteresis: the sticky reason stays
        gpu(index).statusCode(503).body("state", equalTo("UNHEALTHY")).body("reasons.code", hasItem(code))
                .body("reasons.find { it.code == '" + code + "' }.sticky", equalTo(true));
        GpuHealth cleared = health.clear(index, null, "test", "repaired").orElseThrow();
        assertEquals(HealthState.HEALTHY, cleared.state());
        gpu(index).statusCode(200).body("state", equalTo("HEALTHY"));
        AgentEvent last = events.latest(index, null, 1).getFirst();
        assertEquals(AgentEvent.STATE, last.kind());
        assertEquals("operator", last.detector());
        assertEquals("HEALTHY", last.state());
        assertEquals("UNHEALTHY", last.previousState());
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static String scrape() {
        return given().get("/metrics").then().statusCode(200).extract().asString();
    }

    /** The value of the first series of {@code name} carrying every one of {@code labels} ({@code gpu="2"}); NaN if none. */
    static double value(String text, String name, String... labels) {
        return text.lines().filter(l -> l.startsWith(name + "{") && Arrays.stream(labels).allMatch(l::contains))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).findFirst().orElse(Double.NaN);
    }

    /** {@code gpu_agent_xid_errors_total} of one GPU and code; 0 before the first. */
    static double count(String text, int gpu, int xid) {
        double v = value(text, "gpu_agent_xid_errors_total", "gpu=\"" + gpu + "\"", "xid=\"" + xid + "\"");
        return Double.isNaN(v) ? 0 : v;
    }

    GpuEvent xid(int index, int code) {
        return new GpuEvent(nvml.current().orElseThrow().device(index), EventTypes.XID_CRITICAL_ERROR, code, -1, -1);
    }

    @Test
    void aFatalXidIsUnhealthyAtOnceCountedEachTimeAndStaysUntilCleared() {
        String uuid = health.gpus().get(2).uuid();
        long before = events.lastId();
        double counted = count(scrape(), 2, 48);   // other test classes may have sent XID 48 to GPU 2 too
        health.onEvent(xid(2, 48));
        // No waiting: the state is there when onEvent returns.
        gpu(2).statusCode(503).body("state", equalTo("UNHEALTHY")).body("reasons[0].code", equalTo("XID_48"))
                .body("reasons[0].detector", equalTo("xid")).body("actions", hasItem("DRAIN_AND_RESET"));
        given().get("/health").then().statusCode(503).body("reason", containsString("GPU 2"))
                .body("reason", containsString("XID 48"));
        health.onEvent(xid(2, 48));

        List<AgentEvent> recorded = events.since(before, 2, null, 100);
        List<AgentEvent> xids = recorded.stream().filter(e -> e.kind().equals(AgentEvent.XID)).toList();
        assertEquals(2, xids.size(), recorded.toString());
        assertTrue(xids.stream().allMatch(e -> e.code().equals("48") && e.detector().equals("xid") && uuid.equals(e.uuid())));
        List<AgentEvent> states = recorded.stream().filter(e -> e.kind().equals(AgentEvent.STATE)).toList();
        assertEquals(1, states.size(), "one state change for two XIDs: " + recorded);
        assertEquals("UNHEALTHY", states.getFirst().state());
        assertEquals("HEALTHY", states.getFirst().previousState());
        assertEquals("XID_48", states.getFirst().code());

        String text = scrape();
        // Exact names and types in the scrape (Micrometer's Prometheus naming of gpu_agent.xid.errors etc.).
        assertTrue(text.contains("# TYPE gpu_agent_xid_errors_total counter\n"), "counter type");
        assertTrue(text.contains("# TYPE gpu_agent_gpu_health gauge\n"));
        assertTrue(text.contains("# TYPE gpu_agent_recovery_action_recommended gauge\n"));
        assertTrue(text.lines().anyMatch(l -> l.matches("gpu_agent_xid_errors_total\\{UUID=\"" + uuid
                + "\",gpu=\"2\",xid=\"48\",?} [0-9.]+")), text);
        assertEquals(counted + 2, count(text, 2, 48), "two identical XIDs count twice");
        assertEquals(48.0, value(text, "DCGM_FI_DEV_XID_ERRORS", "gpu=\"2\"", "err_code=\"48\""), "last XID, dcgm-exporter style");
        assertEquals(1.0, value(text, "gpu_agent_gpu_health", "gpu=\"2\"", "state=\"unhealthy\""));
        assertEquals(0.0, value(text, "gpu_agent_gpu_health", "gpu=\"2\"", "state=\"healthy\""));
        assertEquals(1.0, value(text, "gpu_agent_recovery_action_recommended", "gpu=\"2\"", "action=\"drain_and_reset\""));
        assertEquals(0.0, value(text, "gpu_agent_recovery_action_recommended", "gpu=\"2\"", "action=\"none\""));
        assertEquals(1.0, value(text, "gpu_agent_recovery_action_recommended", "gpu=\"1\"", "action=\"none\""));

        awaitStickyThenClear(2, "XID_48");
    }

    @Test
    void aWarningXidDegradesAndRecoversAfterTheHysteresis() {
        health.onEvent(xid(3, 13));
        gpu(3).statusCode(200).body("state", equalTo("DEGRADED")).body("reasons[0].code", equalTo("XID_13"))
                .body("actions", hasItem("CHECK_APPLICATION"));
        awaitRecoveryAfterHysteresis(3);
    }

    /** Depends on {@link EventWatcher} (the event thread): the XID travels through the fake driver's event set. */
    @Test
    void anXidFromTheDriverReachesHealthThroughTheEventThread() {
        FakeNvml.eventually(Duration.ofSeconds(10), () -> assertTrue(watcher.watching(), "event thread registered"));
        double counted = count(scrape(), 5, 79);
        long n = FakeNvml.nextEventNumber();
        FakeNvml.write("gpus = 8\nevent." + n + " = 5 xid 79\n");
        awaitState(5, HealthState.LOST, "XID_79");
        given().get("/health").then().statusCode(503);
        FakeNvml.eventually(RAISE, () -> assertEquals(counted + 1, count(scrape(), 5, 79)));
        health.clear(5, null, "test", "rebooted");
        gpu(5).statusCode(200).body("state", equalTo("HEALTHY"));
    }

    @Test
    void ecc() {
        raise(1, "ecc_dbe_volatile", 3, HealthState.UNHEALTHY, "ECC_UNCORRECTED");
        gpu(1).body("reasons[0].message", containsString("volatile count 3"));
        awaitStickyThenClear(1, "ECC_UNCORRECTED");

        raise(1, "ecc_sbe_volatile", 1000, HealthState.DEGRADED, "ECC_CORRECTED_RATE");
        awaitRecoveryAfterHysteresis(1);
    }

    @Test
    void remap() {
        raise(2, "remap_pending", 1, HealthState.UNHEALTHY, "ROW_REMAP_PENDING");
        assertEquals(HealthState.UNHEALTHY, health.clear(2, null, "test", "too early").orElseThrow().state(),
                "a clear does not hide a remap that is still pending");
        awaitStickyThenClear(2, "ROW_REMAP_PENDING");

        raise(2, "remap_failure", 1, HealthState.UNHEALTHY, "ROW_REMAP_FAILURE");
        gpu(2).body("actions", hasItem("INSPECT_HARDWARE"));
        awaitStickyThenClear(2, "ROW_REMAP_FAILURE");
    }

    @Test
    void retiredPages() {
        raise(3, "retired_pending", 1, HealthState.DEGRADED, "RETIRED_PAGES_PENDING");
        FakeNvml.write("gpus = 8\ngpu.3.retired_pending = 1\ngpu.3.retired_sbe = 8\ngpu.3.retired_dbe = 3\n");
        awaitState(3, HealthState.UNHEALTHY, "RETIRED_PAGES_LIMIT");
        gpu(3).body("reasons[0].message", containsString("11 pages retired"));
        awaitRecoveryAfterHysteresis(3);
    }

    @Test
    void thermal() {
        raise(4, "temp", 86, HealthState.DEGRADED, "THERMAL_NEAR_SLOWDOWN");
        raise(4, "temp", 90, HealthState.UNHEALTHY, "THERMAL_SLOWDOWN_SUSTAINED");
        gpu(4).body("reasons[0].message", containsString("at or above the slowdown threshold (89 C)"));
        awaitRecoveryAfterHysteresis(4);

        raise(4, "temp", 91, HealthState.UNHEALTHY, "THERMAL_NEAR_SHUTDOWN");   // the fake's shutdown threshold is 92 C
        awaitRecoveryAfterHysteresis(4);

        raise(4, "mem_temp", 96, HealthState.DEGRADED, "MEMORY_TEMP_HIGH");   // memory's maximum operating temperature is 95 C
        awaitState(4, HealthState.UNHEALTHY, "MEMORY_TEMP_SUSTAINED");
        gpu(4).body("reasons[0].message", containsString("memory at 96 C"));
        awaitRecoveryAfterHysteresis(4);
    }

    @Test
    void clocks() {
        raise(5, "clock_event_reasons", "0x88", HealthState.DEGRADED, "CLOCKS_THROTTLED");
        gpu(5).body("reasons[0].message", containsString("hw_slowdown, hw_power_brake_slowdown"));
        awaitRecoveryAfterHysteresis(5);
    }

    @Test
    void pcie() {
        raise(6, "pcie_replay", 500, HealthState.DEGRADED, "PCIE_REPLAY_RATE");
        awaitRecoveryAfterHysteresis(6);
        raise(6, "pcie_width", 8, HealthState.DEGRADED, "PCIE_LINK_DEGRADED");
        gpu(6).body("reasons[0].message", equalTo("PCIe link runs at gen 5 x8, capable of gen 5 x16"));
        awaitRecoveryAfterHysteresis(6);
    }

    @Test
    void nvlink() {
        raise(7, "nvlink.2.active", 0, HealthState.UNHEALTHY, "NVLINK_DOWN");
        awaitRecoveryAfterHysteresis(7);
        raise(7, "nvlink.0.replay", 40, HealthState.DEGRADED, "NVLINK_ERROR_RATE");
        awaitRecoveryAfterHysteresis(7);
    }

    @Test
    void aLostGpuIsLostAndNeverStopsTheOthersMetrics() {
        FakeNvml.write(Machines.dgxH100().lost(4));
        awaitState(4, HealthState.LOST, "GPU_IS_LOST");
        given().get("/health").then().statusCode(503).body("reason", containsString("GPU 4"));
        String text = scrape();
        assertEquals(1.0, value(text, "gpu_agent_gpu_health", "gpu=\"4\"", "state=\"lost\""));
        assertEquals(1.0, value(text, "gpu_agent_recovery_action_recommended", "gpu=\"4\"", "action=\"reboot\""));
        for (int other = 0; other < 8; other++) {
            if (other != 4) {
                assertEquals(1.0, value(text, "gpu_agent_gpu_health", "gpu=\"" + other + "\"", "state=\"healthy\""), "GPU " + other);
                assertTrue(text.contains("DCGM_FI_DEV_GPU_TEMP{gpu=\"" + other + "\""), "GPU " + other + " temperature");
            }
        }
        awaitRecoveryAfterHysteresis(4);
    }

    @Test
    void driverRecoveryHint() {
        FakeNvml.write("gpus = 8\ndriver_version = 565.57.01\ngpu.0.recovery_action = 2\n");
        awaitState(0, HealthState.UNHEALTHY, "DRIVER_NODE_REBOOT");
        assertEquals(1.0, value(scrape(), "gpu_agent_recovery_action_recommended", "gpu=\"0\"", "action=\"reboot\""));
        awaitStickyThenClear(0, "DRIVER_NODE_REBOOT");

        FakeNvml.write("gpus = 8\ndriver_version = 565.57.01\ngpu.0.recovery_action = 3\n");
        awaitState(0, HealthState.DEGRADED, "DRIVER_DRAIN_P2P");
        awaitRecoveryAfterHysteresis(0);
    }
}
