package io.gpuagent.agent.health;

import io.gpuagent.agent.health.detect.HealthState;
import io.gpuagent.agent.health.detect.RepairAction;
import static io.gpuagent.agent.health.Samples.healthy;
import static io.gpuagent.agent.health.Samples.snapshot;
import static io.gpuagent.agent.health.Samples.uuid;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.agent.health.detect.Detector;
import io.gpuagent.exporter.GpuSample;
import io.gpuagent.exporter.GpuStatus;
import io.gpuagent.exporter.Reading;
import io.gpuagent.exporter.Snapshot;
import io.gpuagent.nvml.EventTypes;
import io.gpuagent.nvml.GpuEvent;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/** States, hysteresis, sticky reasons and clears, on a hand-moved clock: no Quarkus, no sleeping. */
class HealthEngineTest {

    static final Duration HYSTERESIS = Duration.ofSeconds(60);

    final Samples.TestClock clock = new Samples.TestClock();
    final HealthEngine engine = new HealthEngine(HealthEngine.detectors(config(Map.of())), HYSTERESIS, clock);

    /** The real config mapping (defaults from the annotations, Quarkus' "30s" durations) plus {@code overrides}. */
    static HealthConfig config(Map<String, String> overrides) {
        return Samples.config(overrides);
    }

    HealthEngine.Judgement judge(GpuSample... gpus) {
        return engine.onSnapshot(snapshot(gpus));
    }

    GpuHealth gpu(int index) {
        return engine.gpu(index, null).orElseThrow();
    }

    /** Seconds pass, with a sample each second (as the sampler would). */
    void tick(int seconds, UnaryOperator<GpuSample.Builder> gpu0) {
        for (int s = 0; s < seconds; s++) {
            clock.advance(Duration.ofSeconds(1));
            judge(gpu0.apply(healthy(0)).build(), healthy(1).build());
        }
    }

    @Test
    void defaultsAreFaultsMdAndXidClassKeysMap() {
        HealthConfig defaults = config(Map.of());
        assertEquals(Duration.ofSeconds(60), defaults.hysteresis());
        assertEquals(5, defaults.thermalMargin());
        assertEquals(Duration.ofSeconds(30), defaults.thermalWindow());
        assertEquals(10, defaults.retiredPagesLimit());
        assertEquals(8, defaults.pcieReplaysPerMinute());
        assertEquals(Map.of(), defaults.xidClass());
        HealthConfig custom = config(Map.of("gpu-agent.health.xid-class.13", "fatal", "gpu-agent.health.xid-class.79", "ignore"));
        assertEquals(Map.of("13", io.gpuagent.agent.health.detect.XidClass.FATAL, "79", io.gpuagent.agent.health.detect.XidClass.IGNORE),
                custom.xidClass());
    }

    @Test
    void firstJudgementLeavesInitializing() {
        HealthEngine.Judgement r = judge(healthy(0).build(), healthy(1).build());
        assertEquals(2, r.changes().size());
        assertEquals(HealthState.INITIALIZING, r.changes().getFirst().previous());
        assertEquals(HealthState.HEALTHY, gpu(0).state());
        assertEquals(List.of(), gpu(0).reasons());
        assertEquals(List.of(), gpu(0).actions());
    }

    static Stream<Arguments> conditions() {
        return Stream.of(
                Arguments.of("ecc corrected rate", (UnaryOperator<GpuSample.Builder>) b -> b.set(Reading.ECC_SBE_VOLATILE, 500),
                        "ecc", "ECC_CORRECTED_RATE", HealthState.DEGRADED),
                Arguments.of("retired pages pending", (UnaryOperator<GpuSample.Builder>) b -> b.set(Reading.RETIRED_PAGES_PENDING, 1),
                        "retired-pages", "RETIRED_PAGES_PENDING", HealthState.DEGRADED),
                Arguments.of("retired pages over the limit", (UnaryOperator<GpuSample.Builder>) b -> b.set(Reading.RETIRED_PAGES_DBE, 11),
                        "retired-pages", "RETIRED_PAGES_LIMIT", HealthState.UNHEALTHY),
                Arguments.of("near slowdown", (UnaryOperator<GpuSample.Builder>) b -> b.set(Reading.GPU_TEMP_C, 86),
                        "thermal", "THERMAL_NEAR_SLOWDOWN", HealthState.DEGRADED),
                Arguments.of("pcie replays", (UnaryOperator<GpuSample.Builder>) b -> b.set(Reading.PCIE_REPLAY_COUNTER, 1000),
                        "pcie", "PCIE_REPLAY_RATE", HealthState.DEGRADED),
                Arguments.of("pcie narrow link", (UnaryOperator<GpuSample.Builder>) b -> b.set(Reading.PCIE_LINK_WIDTH, 4),
                        "pcie", "PCIE_LINK_DEGRADED", HealthState.DEGRADED),
                Arguments.of("nvlink errors", (UnaryOperator<GpuSample.Builder>) b -> b.set(Reading.NVLINK_RECOVERY_ERRORS, 50),
                        "nvlink", "NVLINK_ERROR_RATE", HealthState.DEGRADED),
                Arguments.of("lost", (UnaryOperator<GpuSample.Builder>) b -> b.status(GpuStatus.LOST, "GPU_IS_LOST"),
                        "lost", "GPU_IS_LOST", HealthState.LOST),
                Arguments.of("stale", (UnaryOperator<GpuSample.Builder>) b -> b.status(GpuStatus.STALE, "hung"),
                        "lost", "READINGS_STALE", HealthState.DEGRADED),
                Arguments.of("driver asks for p2p drain", (UnaryOperator<GpuSample.Builder>) b -> b.set(Reading.RECOVERY_ACTION, 3),
                        "driver", "DRIVER_DRAIN_P2P", HealthState.DEGRADED));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("conditions")
    void aConditionRaisesAtOnceAndClearsAfterTheHysteresis(String what, UnaryOperator<GpuSample.Builder> condition,
                                                           String detector, String code, HealthState state) {
        judge(healthy(0).build(), healthy(1).build());
        clock.advance(Duration.ofSeconds(1));
        HealthEngine.Judgement r = judge(condition.apply(healthy(0)).build(), healthy(1).build());
        assertEquals(state, gpu(0).state(), what);
        Reason reason = gpu(0).reasons().getFirst();
        assertEquals(detector + "/" + code, reason.detector() + "/" + reason.code());
        assertEquals(1, r.changes().size());
        HealthEngine.Change change = r.changes().getFirst();
        assertEquals(HealthState.HEALTHY, change.previous());
        assertEquals(code, change.code());
        assertTrue(change.message().contains("HEALTHY -> " + state), change.message());
        assertEquals(HealthState.HEALTHY, gpu(1).state(), "the other GPU is not touched");

        // The condition goes; the reason stays for the hysteresis window, then the GPU recovers.
        tick(59, b -> b);
        assertEquals(state, gpu(0).state(), what + " 59 s after the condition went");
        clock.advance(Duration.ofSeconds(1));
        r = judge(healthy(0).build(), healthy(1).build());
        assertEquals(HealthState.HEALTHY, gpu(0).state(), what);
        assertEquals(code, r.changes().getFirst().code());
        assertTrue(r.changes().getFirst().message().contains(state + " -> HEALTHY"), r.changes().getFirst().message());
    }

    @Test
    void aFlappingConditionKeepsTheStateAndCountsItsOnsets() {
        judge(healthy(0).build());
        for (int i = 0; i < 5; i++) {
            clock.advance(Duration.ofSeconds(10));
            judge(healthy(0).set(Reading.GPU_TEMP_C, 86).build());
            clock.advance(Duration.ofSeconds(10));
            judge(healthy(0).build());
        }
        assertEquals(HealthState.DEGRADED, gpu(0).state());
        assertEquals(5, gpu(0).reasons().getFirst().count());
    }

    @Test
    void aWorseConditionRaisesAtOnceAndTheBetterStateWaits() {
        judge(healthy(0).build());
        for (int s = 0; s <= 30; s++) {
            clock.advance(Duration.ofSeconds(1));
            judge(healthy(0).set(Reading.GPU_TEMP_C, 90).build());
        }
        assertEquals(HealthState.UNHEALTHY, gpu(0).state());
        assertEquals("THERMAL_SLOWDOWN_SUSTAINED", gpu(0).reasons().getFirst().code());
        assertEquals(List.of(RepairAction.INSPECT_HARDWARE), gpu(0).actions());
        tick(59, b -> b.set(Reading.GPU_TEMP_C, 86));   // cooler, but still near the threshold
        assertEquals(HealthState.UNHEALTHY, gpu(0).state());
        tick(2, b -> b.set(Reading.GPU_TEMP_C, 86));
        assertEquals(HealthState.DEGRADED, gpu(0).state());
        assertEquals("THERMAL_NEAR_SLOWDOWN", gpu(0).reasons().getFirst().code());
    }

    @Test
    void stickyReasonsStayUntilAClearAndAClearKeepsWhatIsStillThere() {
        judge(healthy(0).build());
        clock.advance(Duration.ofSeconds(1));
        judge(healthy(0).set(Reading.ROW_REMAP_PENDING, 1).build());
        assertEquals(HealthState.UNHEALTHY, gpu(0).state());

        HealthEngine.Change stillPending = engine.clear(0, null, "operator", "cleared by test").orElseThrow()
                .changes().getFirst();
        assertEquals(HealthState.UNHEALTHY, stillPending.gpu().state(), "the remap is still pending");
        assertTrue(stillPending.message().contains("still UNHEALTHY"), stillPending.message());

        tick(300, b -> b);   // the remap is applied (or the reading went away): sticky, it stays
        assertEquals(HealthState.UNHEALTHY, gpu(0).state());
        assertTrue(gpu(0).reasons().getFirst().sticky());

        HealthEngine.Change cleared = engine.clear(-1, uuid(0), "operator", "cleared by test (reset done)")
                .orElseThrow().changes().getFirst();
        assertEquals(HealthState.HEALTHY, cleared.gpu().state());
        assertEquals("operator", cleared.detector());
        assertEquals(HealthState.UNHEALTHY, cleared.previous());
        assertTrue(cleared.message().contains("removed ROW_REMAP_PENDING"), cleared.message());
        assertEquals(HealthState.HEALTHY, gpu(0).state());
        assertTrue(engine.clear(7, null, "operator", "x").isEmpty(), "no such GPU");
    }

    @Test
    void xidEventsRaiseAtOnceAndEachOneCounts() {
        judge(healthy(0).build(), healthy(1).build());
        GpuEvent xid48 = new GpuEvent(null, EventTypes.XID_CRITICAL_ERROR, 48, -1, -1);
        HealthEngine.Change change = engine.onEvent(1, uuid(1), "", xid48).changes().getFirst();
        assertEquals(HealthState.UNHEALTHY, gpu(1).state(), "visible as soon as onEvent returns");
        assertEquals("XID_48", change.code());
        assertTrue(engine.onEvent(1, uuid(1), "", xid48).changes().isEmpty(), "no state change the second time");
        assertEquals(2, gpu(1).reasons().getFirst().count());
        tick(600, b -> b);
        assertEquals(HealthState.UNHEALTHY, gpu(1).state(), "fatal XIDs are sticky");

        // A warning XID degrades for the window after the last one.
        GpuEvent xid13 = new GpuEvent(null, EventTypes.XID_CRITICAL_ERROR, 13, -1, -1);
        engine.onEvent(0, uuid(0), "", xid13);
        assertEquals(HealthState.DEGRADED, gpu(0).state());
        assertEquals(List.of(RepairAction.CHECK_APPLICATION), gpu(0).actions());
        tick(30, b -> b);
        engine.onEvent(0, uuid(0), "", xid13);
        tick(59, b -> b);
        assertEquals(HealthState.DEGRADED, gpu(0).state());
        tick(1, b -> b);
        assertEquals(HealthState.HEALTHY, gpu(0).state());
    }

    @Test
    void xid79IsLostUntilCleared() {
        judge(healthy(0).build());
        engine.onEvent(0, uuid(0), "", new GpuEvent(null, EventTypes.XID_CRITICAL_ERROR, 79, -1, -1));
        assertEquals(HealthState.LOST, gpu(0).state());
        assertEquals(List.of(RepairAction.REBOOT), gpu(0).actions());
        tick(120, b -> b);
        assertEquals(HealthState.LOST, gpu(0).state());
        engine.clear(0, null, "operator", "rebooted");
        assertEquals(HealthState.HEALTHY, gpu(0).state());
    }

    @Test
    void aLostGpuRecoversAfterReadingOkForTheWindowAndTheOthersAreUntouched() {
        judge(healthy(0).build(), healthy(1).build());
        tick(5, b -> b.status(GpuStatus.LOST, "GPU_IS_LOST"));
        assertEquals(HealthState.LOST, gpu(0).state());
        assertEquals(HealthState.HEALTHY, gpu(1).state());
        tick(59, b -> b);
        assertEquals(HealthState.LOST, gpu(0).state());
        tick(1, b -> b);
        assertEquals(HealthState.HEALTHY, gpu(0).state());
    }

    @Test
    void staleOrLostReadingsAreNotJudgedByTheValueDetectors() {
        judge(healthy(0).build());
        clock.advance(Duration.ofSeconds(1));
        judge(healthy(0).set(Reading.ROW_REMAP_PENDING, 1).status(GpuStatus.STALE, "hung").build());
        assertEquals(List.of("READINGS_STALE"), gpu(0).reasons().stream().map(Reason::code).toList());
    }

    @Test
    void aVanishedGpuIsForgottenAndNvmlDownJudgesNothing() {
        judge(healthy(0).build(), healthy(1).build());
        HealthEngine.Judgement r = judge(healthy(0).build());
        assertEquals(List.of(uuid(1)), r.vanished());
        assertEquals(1, engine.gpus().size());
        r = engine.onSnapshot(new Snapshot(2, Samples.T0, false, "NVML not found", "", 0, List.of()));
        assertEquals(List.of(), r.vanished());
        assertEquals(List.of(), engine.gpus());
        judge(healthy(0).build());
        assertEquals(HealthState.HEALTHY, gpu(0).state());
    }
}
