package io.gpuagent.agent.health;

import static io.gpuagent.agent.health.Samples.inMigMode;
import static io.gpuagent.agent.health.Samples.mig;
import static io.gpuagent.agent.health.Samples.snapshot;
import static io.gpuagent.agent.health.Samples.uuid;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.gpuagent.exporter.MigInstance;
import io.gpuagent.nvml.EventTypes;
import io.gpuagent.nvml.GpuEvent;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code gpu_agent_mig_device_health}: one state set per MIG device, with its GPU's and dcgm-exporter's labels. */
class HealthMetersTest {

    final Samples.TestClock clock = new Samples.TestClock();
    final HealthEngine engine = new HealthEngine(Samples.config(Map.of()), clock);
    final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    final HealthMeters meters = new HealthMeters(registry, engine::byUuid, engine::migByUuid);

    Gauge state(MigInstance m, String state) {
        return registry.find(HealthMeters.MIG_DEVICE_HEALTH).tag("mig_uuid", m.uuid()).tag("state", state).gauge();
    }

    @Test
    void eachMigDeviceHasItsStateSetUntilItGoes() {
        MigInstance gi2 = mig(0, 2, 0, "1g.10gb", 1);
        MigInstance gi3 = mig(0, 3, 0, "1g.10gb", 1);
        HealthEngine.Judgement first = engine.onSnapshot(snapshot(inMigMode(0, gi2, gi3).build()));
        meters.sync(engine.gpus(), first.vanished(), first.vanishedMig());
        engine.onEvent(0, uuid(0), "", new GpuEvent(null, EventTypes.XID_CRITICAL_ERROR, 31, 2, 0));

        Gauge degraded = state(gi2, "degraded");
        assertEquals(1.0, degraded.value());
        assertEquals(0.0, state(gi2, "healthy").value());
        assertEquals(1.0, state(gi3, "healthy").value());
        assertEquals("0", degraded.getId().getTag("gpu"));
        assertEquals(uuid(0), degraded.getId().getTag("UUID"));
        assertEquals("2", degraded.getId().getTag("GPU_I_ID"));
        assertEquals("1g.10gb", degraded.getId().getTag("GPU_I_PROFILE"));

        HealthEngine.Judgement reconfigured = engine.onSnapshot(snapshot(inMigMode(0, gi3).build()));
        meters.sync(engine.gpus(), reconfigured.vanished(), reconfigured.vanishedMig());
        assertNull(state(gi2, "degraded"), "a MIG device reconfigured away loses its series");
        assertEquals(1.0, state(gi3, "healthy").value());
    }
}
