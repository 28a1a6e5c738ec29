package io.gpuagent.agent.health;

import static io.gpuagent.agent.health.Samples.healthy;
import static io.gpuagent.agent.health.Samples.inMigMode;
import static io.gpuagent.agent.health.Samples.mig;
import static io.gpuagent.agent.health.Samples.snapshot;
import static io.gpuagent.agent.health.Samples.uuid;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.agent.health.detect.HealthState;
import io.gpuagent.agent.health.detect.RepairAction;
import io.gpuagent.agent.health.detect.XidScope;
import io.gpuagent.exporter.GpuSample;
import io.gpuagent.exporter.GpuStatus;
import io.gpuagent.exporter.MigInstance;
import io.gpuagent.exporter.Reading;
import io.gpuagent.nvml.EventTypes;
import io.gpuagent.nvml.GpuEvent;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * Health per MIG device (docs/faults.md#mig) on a hand-moved clock: GPU 0 is an H100 in MIG mode with a 3g.40gb
 * (GPU instance 1) and three 1g.10gb (GPU instances 2, 3, 4); GPU 1 is a whole GPU. Snapshots are built with the
 * shared MIG model, as the sampler will build them.
 */
class MigHealthEngineTest {

    static final Duration HYSTERESIS = HealthEngineTest.HYSTERESIS;
    static final MigInstance BIG = mig(0, 1, 0, "3g.40gb", 1);
    static final MigInstance GI2 = mig(0, 2, 0, "1g.10gb", 1);
    static final MigInstance GI3 = mig(0, 3, 0, "1g.10gb", 1);
    static final MigInstance GI4 = mig(0, 4, 0, "1g.10gb", 1);
    static final List<MigInstance> LAYOUT = List.of(BIG, GI2, GI3, GI4);

    final Samples.TestClock clock = new Samples.TestClock();
    HealthEngine engine = engine(Map.of());

    HealthEngine engine(Map<String, String> settings) {
        return new HealthEngine(HealthEngine.detectors(HealthEngineTest.config(settings)), HYSTERESIS, clock);
    }

    HealthEngine.Judgement judge(GpuSample.Builder gpu0) {
        return engine.onSnapshot(snapshot(gpu0.build(), healthy(1).build()));
    }

    HealthEngine.Judgement judgeLayout() {
        return judge(inMigMode(0, LAYOUT.toArray(MigInstance[]::new)));
    }

    /** Seconds pass, with a sample each second; {@code gpu0} changes GPU 0's sample of the layout. */
    void tick(int seconds, UnaryOperator<GpuSample.Builder> gpu0) {
        for (int s = 0; s < seconds; s++) {
            clock.advance(Duration.ofSeconds(1));
            judge(gpu0.apply(inMigMode(0, LAYOUT.toArray(MigInstance[]::new))));
        }
    }

    MigHealth device(MigInstance m) {
        return engine.migByUuid(m.uuid());
    }

    HealthState state(MigInstance m) {
        return device(m).state();
    }

    static GpuEvent xid(int xid, int gi, int ci) {
        return new GpuEvent(null, EventTypes.XID_CRITICAL_ERROR, xid, gi, ci);
    }

    @Test
    void everyMigDeviceIsJudgedUnderItsGpuInOrder() {
        HealthEngine.Judgement first = judgeLayout();
        assertEquals(4, first.migChanges().size(), "each MIG device leaves INITIALIZING");
        GpuHealth gpu0 = engine.gpu(0, null).orElseThrow();
        assertEquals(List.of("0/1", "0/2", "0/3", "0/4"), gpu0.migDevices().stream().map(MigHealth::address).toList());
        assertEquals(HealthState.HEALTHY, gpu0.state());
        for (MigHealth m : gpu0.migDevices()) {
            assertEquals(HealthState.HEALTHY, m.state(), m.address());
            assertEquals(uuid(0), m.parentUuid());
            assertEquals(List.of(), m.reasons());
            assertEquals(List.of(), m.inherited());
        }
        assertEquals("1g.10gb", device(GI2).profile());
        assertEquals(List.of(), engine.gpu(1, null).orElseThrow().migDevices(), "a whole GPU has none");
        assertInstanceOf(MigHealth.class, engine.device(GI3.uuid()).orElseThrow());
        assertInstanceOf(GpuHealth.class, engine.device(uuid(0)).orElseThrow());
        assertTrue(engine.device("MIG-00000000-0000-4000-8000-00000000ffff").isEmpty());
    }

    @Test
    void anXidOnGpuInstance2MakesOnlyThatMigDeviceUnhealthy() {
        engine = engine(Map.of("gpu-agent.health.xid-class.43", "fatal"));
        judgeLayout();
        HealthEngine.Outcome o = engine.onEvent(0, uuid(0), "", xid(43, 2, 0));
        assertEquals(List.of(GI2.uuid()), o.judgedOn().stream().map(MigHealth::uuid).toList());
        assertEquals(List.of(), o.changes(), "the GPU itself is untouched");
        assertEquals(1, o.migChanges().size());
        HealthEngine.MigChange change = o.migChanges().getFirst();
        assertEquals(GI2.uuid(), change.device().uuid());
        assertEquals("XID_43", change.code());
        assertTrue(change.worse());
        assertTrue(change.message().startsWith("MIG device 0/2 (" + GI2.uuid()), change.message());
        assertTrue(change.message().contains("HEALTHY -> UNHEALTHY"), change.message());

        assertEquals(HealthState.UNHEALTHY, state(GI2), "visible as soon as onEvent returns");
        assertEquals("XID_43", device(GI2).reasons().getFirst().code());
        assertTrue(device(GI2).reasons().getFirst().sticky());
        for (MigInstance sibling : List.of(BIG, GI3, GI4)) {
            assertEquals(HealthState.HEALTHY, state(sibling), sibling.address());
        }
        assertEquals(HealthState.HEALTHY, engine.gpu(0, null).orElseThrow().state());
        tick(600, b -> b);
        assertEquals(HealthState.UNHEALTHY, state(GI2), "a fatal XID is sticky on a MIG device too");
        assertEquals(HealthState.HEALTHY, state(GI3));
    }

    @Test
    void anApplicationXidDegradesOnlyItsMigDeviceForTheHysteresisWindow() {
        judgeLayout();
        engine.onEvent(0, uuid(0), "", xid(31, 2, 0));
        assertEquals(HealthState.DEGRADED, state(GI2));
        assertEquals(List.of(RepairAction.CHECK_APPLICATION), device(GI2).actions());
        assertEquals(HealthState.HEALTHY, state(GI3));
        assertEquals(HealthState.HEALTHY, engine.gpu(0, null).orElseThrow().state());
        engine.onEvent(0, uuid(0), "", xid(31, 2, 0));
        assertEquals(2, device(GI2).reasons().getFirst().count(), "each XID on the device counts");
        tick(59, b -> b);
        assertEquals(HealthState.DEGRADED, state(GI2));
        tick(1, b -> b);
        assertEquals(HealthState.HEALTHY, state(GI2));
    }

    @Test
    void aGpuInstanceAloneNamesEveryComputeInstanceOfItAndBothNameOne() {
        MigInstance ci0 = mig(0, 5, 0, "1g.10gb", 1);
        MigInstance ci1 = mig(0, 5, 1, "1g.10gb", 1);
        assertEquals("0/5/1", ci1.address());
        judge(inMigMode(0, BIG, ci0, ci1));
        engine.onEvent(0, uuid(0), "", xid(13, 5, 1));
        assertEquals(HealthState.HEALTHY, state(ci0));
        assertEquals(HealthState.DEGRADED, state(ci1));
        HealthEngine.Outcome both = engine.onEvent(0, uuid(0), "", xid(94, 5, -1));
        assertEquals(List.of(ci0.uuid(), ci1.uuid()), both.judgedOn().stream().map(MigHealth::uuid).toList());
        assertEquals(HealthState.DEGRADED, state(ci0));
        assertEquals(HealthState.HEALTHY, state(BIG));
    }

    @Test
    void aGpuWideXidMarksEveryMigDeviceWithTheGpusReason() {
        judgeLayout();
        // The driver names GPU instance 2, but a double-bit ECC error is the memory's: GPU-wide (docs/faults.md#mig).
        HealthEngine.Outcome o = engine.onEvent(0, uuid(0), "", xid(48, 2, 0));
        assertEquals(List.of(), o.judgedOn());
        assertEquals(1, o.changes().size());
        assertEquals(4, o.changes().getFirst().gpu().migDevices().size(), "the GPU's change lists its MIG devices");
        assertEquals(4, o.migChanges().size(), "every MIG device follows");
        for (HealthEngine.MigChange c : o.migChanges()) {
            assertEquals("XID_48", c.code());
            assertTrue(c.message().contains("on its GPU 0"), c.message());
        }
        for (MigInstance m : LAYOUT) {
            MigHealth h = device(m);
            assertEquals(HealthState.UNHEALTHY, h.state(), m.address());
            assertEquals(List.of(), h.reasons(), "not its own reason");
            assertEquals("XID_48", h.inherited().getFirst().code());
            assertEquals(HealthState.HEALTHY, h.ownState());
            assertEquals(List.of(RepairAction.DRAIN_AND_RESET), h.actions());
        }
        assertEquals(HealthState.HEALTHY, engine.gpu(1, null).orElseThrow().state(), "the other GPU is untouched");
    }

    @Test
    void anXidTheDriverDoesNotAttributeToAnInstanceIsTheGpus() {
        judgeLayout();
        engine.onEvent(0, uuid(0), "", xid(31, -1, -1));
        assertEquals(HealthState.DEGRADED, engine.gpu(0, null).orElseThrow().state());
        LAYOUT.forEach(m -> assertEquals(HealthState.DEGRADED, state(m), m.address()));
        // Nor one naming a GPU instance the latest sample did not list (created since): the whole GPU, to be safe.
        engine.onEvent(0, uuid(0), "", xid(13, 9, 0));
        assertEquals(List.of("XID_31", "XID_13"), engine.gpu(0, null).orElseThrow().reasons().stream().map(Reason::code)
                .toList());
        assertEquals(List.of(), device(GI2).reasons());
    }

    @Test
    void aPhysicalFaultOfTheGpuMarksEveryMigDeviceAndTheyRecoverWithIt() {
        judgeLayout();
        tick(31, b -> b.set(Reading.GPU_TEMP_C, 90));
        assertEquals(HealthState.UNHEALTHY, engine.gpu(0, null).orElseThrow().state());
        for (MigInstance m : LAYOUT) {
            assertEquals(HealthState.UNHEALTHY, state(m), m.address());
            assertEquals("THERMAL_SLOWDOWN_SUSTAINED", device(m).worstReason().code());
        }
        HealthEngine.Judgement cooled = null;
        for (int s = 0; s < 61 && (cooled == null || cooled.migChanges().isEmpty()); s++) {
            clock.advance(Duration.ofSeconds(1));
            cooled = judgeLayout();
        }
        assertEquals(HealthState.HEALTHY, engine.gpu(0, null).orElseThrow().state());
        assertEquals(4, cooled.migChanges().size());
        assertTrue(cooled.migChanges().getFirst().message().contains("of its GPU 0 cleared"),
                cooled.migChanges().getFirst().message());
        LAYOUT.forEach(m -> assertEquals(HealthState.HEALTHY, state(m), m.address()));
    }

    @Test
    void aLostOrStaleGpuCarriesItsMigDevicesAlongAndForgetsNone() {
        judgeLayout();
        clock.advance(Duration.ofSeconds(1));
        // A stale sample may carry no MIG list: only a fresh one says which MIG devices exist.
        HealthEngine.Judgement stale = judge(healthy(0).status(GpuStatus.STALE, "hung"));
        assertEquals(List.of(), stale.vanishedMig());
        LAYOUT.forEach(m -> assertEquals(HealthState.DEGRADED, state(m), m.address()));
        clock.advance(Duration.ofSeconds(1));
        judge(healthy(0).status(GpuStatus.LOST, "GPU_IS_LOST"));
        LAYOUT.forEach(m -> assertEquals(HealthState.LOST, state(m), m.address()));
    }

    @Test
    void aVanishedMigDeviceIsForgottenAndANewOneOnItsGpuInstanceStartsClean() {
        engine = engine(Map.of("gpu-agent.health.xid-class.43", "fatal"));
        judgeLayout();
        engine.onEvent(0, uuid(0), "", xid(43, 2, 0));
        assertEquals(HealthState.UNHEALTHY, state(GI2));

        // Reconfigured: GPU instance 2 destroyed and made again, a new MIG UUID on the same id.
        MigInstance again = mig(0, 2, 0, "1g.10gb", 2);
        clock.advance(Duration.ofSeconds(1));
        HealthEngine.Judgement r = judge(inMigMode(0, BIG, again, GI3, GI4));
        assertEquals(List.of(GI2.uuid()), r.vanishedMig());
        assertNull(device(GI2));
        assertEquals(HealthState.HEALTHY, device(again).state(), "nothing leaks to the new instance on GI 2");
        assertEquals(List.of(), device(again).reasons());
        engine.onEvent(0, uuid(0), "", xid(43, 2, 0));
        assertFalse(device(again).reasons().getFirst().message().contains("times"), "its XIDs count afresh");

        // The GPU leaves MIG mode: every MIG device goes.
        clock.advance(Duration.ofSeconds(1));
        r = judge(healthy(0).set(Reading.MIG_MODE, 0));
        assertEquals(List.of(BIG.uuid(), again.uuid(), GI3.uuid(), GI4.uuid()).stream().sorted().toList(),
                r.vanishedMig().stream().sorted().toList());
        assertEquals(List.of(), engine.gpu(0, null).orElseThrow().migDevices());
    }

    @Test
    void aVanishedGpuTakesItsMigDevicesAlong() {
        judgeLayout();
        HealthEngine.Judgement r = engine.onSnapshot(snapshot(healthy(1).build()));
        assertEquals(List.of(uuid(0)), r.vanished());
        assertEquals(4, r.vanishedMig().size());
        LAYOUT.forEach(m -> assertTrue(engine.device(m.uuid()).isEmpty(), m.address()));
    }

    @Test
    void aClearOfAMigDeviceDropsItsOwnReasonsAndItsGpusStay() {
        engine = engine(Map.of("gpu-agent.health.xid-class.43", "fatal"));
        judgeLayout();
        engine.onEvent(0, uuid(0), "", xid(43, 2, 0));
        HealthEngine.MigChange cleared = engine.clearMig(GI2.uuid(), "operator", "cleared by test").orElseThrow();
        assertEquals(HealthState.HEALTHY, cleared.device().state());
        assertEquals(HealthState.UNHEALTHY, cleared.previous());
        assertEquals("operator", cleared.detector());
        assertTrue(cleared.message().contains("removed XID_43"), cleared.message());
        assertEquals(HealthState.HEALTHY, state(GI2));

        engine.onEvent(0, uuid(0), "", xid(43, 2, 0));
        engine.onEvent(0, uuid(0), "", xid(48, -1, -1));
        HealthEngine.MigChange still = engine.clearMig(GI2.uuid(), "operator", "cleared by test").orElseThrow();
        assertEquals(HealthState.UNHEALTHY, still.device().state(), "its GPU's double-bit ECC error stays");
        assertTrue(still.message().contains("still UNHEALTHY: [xid XID_48] on its GPU 0"), still.message());
        assertEquals(List.of(), device(GI2).reasons());

        // Clearing the GPU clears what its MIG devices inherited, and they say so.
        HealthEngine.Outcome gpu = engine.clear(0, null, "operator", "reset by hand").orElseThrow();
        assertEquals(HealthState.HEALTHY, gpu.changes().getFirst().gpu().state());
        assertEquals(4, gpu.migChanges().size());
        LAYOUT.forEach(m -> assertEquals(HealthState.HEALTHY, state(m), m.address()));
        assertTrue(engine.clearMig("MIG-00000000-0000-4000-8000-00000000ffff", "operator", "x").isEmpty());
        assertTrue(engine.clear(-1, GI2.uuid(), "operator", "x").isEmpty(), "a GPU clear takes no MIG UUID");
    }

    @Test
    void theScopeTableIsConfigurableButALostXidIsAlwaysTheGpus() {
        engine = engine(Map.of("gpu-agent.health.xid-scope.31", "gpu", "gpu-agent.health.xid-scope.48", "instance",
                "gpu-agent.health.xid-scope.79", "instance"));
        judgeLayout();
        engine.onEvent(0, uuid(0), "", xid(48, 3, 0));
        assertEquals(HealthState.UNHEALTHY, state(GI3));
        assertEquals(HealthState.HEALTHY, state(GI2));
        assertEquals(HealthState.HEALTHY, engine.gpu(0, null).orElseThrow().state());
        engine.onEvent(0, uuid(0), "", xid(31, 2, 0));
        assertEquals(HealthState.DEGRADED, engine.gpu(0, null).orElseThrow().state(), "31 configured GPU-wide");
        assertEquals(HealthState.DEGRADED, state(BIG));
        engine.onEvent(0, uuid(0), "", xid(79, 4, 0));
        assertEquals(HealthState.LOST, engine.gpu(0, null).orElseThrow().state());
        LAYOUT.forEach(m -> assertEquals(HealthState.LOST, state(m), m.address()));
        assertEquals(Map.of("31", XidScope.GPU, "48", XidScope.INSTANCE, "79", XidScope.INSTANCE),
                HealthEngineTest.config(Map.of("gpu-agent.health.xid-scope.31", "gpu", "gpu-agent.health.xid-scope.48",
                        "instance", "gpu-agent.health.xid-scope.79", "instance")).xidScope());
    }
}
