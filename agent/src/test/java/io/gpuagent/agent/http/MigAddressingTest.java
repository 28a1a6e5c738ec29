package io.gpuagent.agent.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.agent.health.HealthEngine;
import io.gpuagent.agent.health.HealthReport;
import io.gpuagent.agent.health.Samples;
import io.gpuagent.agent.journal.AgentEvent;
import io.gpuagent.agent.journal.EventFilter;
import io.gpuagent.exporter.GpuSample;
import io.gpuagent.exporter.MigInstance;
import io.gpuagent.exporter.Snapshot;
import io.gpuagent.nvml.EventTypes;
import io.gpuagent.nvml.GpuEvent;
import jakarta.ws.rs.WebApplicationException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;

/**
 * How the API names a MIG device (GpuId: {@code <gpu>/<gi>}, {@code <gpu>/<gi>/<ci>}, {@code MIG-...}), what it
 * finds with each, and the JSON the views give for a GPU in MIG mode. Units, on snapshots built with the MIG model:
 * the fake driver has no MIG devices yet, so the same paths through HTTP wait for the end-to-end tests that will
 * have them (MigAddressingApiTest covers what HTTP can check without: the 400s and 404s).
 */
class MigAddressingTest {

    static final MigInstance GI2 = Samples.mig(0, 2, 0, "1g.10gb", 1);
    static final MigInstance GI5 = Samples.mig(0, 5, 0, "1g.10gb", 1);
    static final MigInstance GI5_CI1 = Samples.mig(0, 5, 1, "1g.10gb", 1);
    final ObjectMapper mapper = new ObjectMapper().findAndRegisterModules();

    static Snapshot snapshot() {
        return Samples.snapshot(Samples.inMigMode(0, GI2, GI5, GI5_CI1).build(), Samples.healthy(1).build());
    }

    static int status(Runnable parse) {
        return assertThrows(WebApplicationException.class, parse::run).getResponse().getStatus();
    }

    @Test
    void eachDeviceHasOneSpellingPerFormAndEveryOtherIsA400() {
        assertEquals(new GpuId(0, null, 2, 0), GpuId.parse("0/2"));
        assertEquals(new GpuId(0, null, 5, 1), GpuId.parse("0/5/1"));
        assertEquals(GpuId.parse("0/2"), GpuId.parse("0", "2", null), "a query parameter and path segments agree");
        assertEquals(GpuId.parse("0/5/1"), GpuId.parse("0", "5", "1"));
        assertEquals(new GpuId(null, GI2.uuid(), null, null), GpuId.parse(GI2.uuid()));
        assertEquals("0/2", GpuId.parse("0/2").toString());
        assertEquals("0/5/1", GpuId.parse("0", "5", "1").toString());
        assertTrue(GpuId.parse("0/2").mig());
        assertTrue(GpuId.parse(GI2.uuid()).mig());
        assertFalse(GpuId.parse("0").mig());
        assertFalse(GpuId.parse("GPU-00000000-0000-4000-8000-000000000000").mig());
        for (String bad : List.of("0/02", "00/2", "0/2/0", "0/2/", "/2", "0//2", "0/2/1/1", "0/-1", "0/+2", "0/ 2",
                "0/99999", "0/x", "GPU-00000000-0000-4000-8000-000000000000/2", "MIG-GPU-00000000/2/0", "0\\2")) {
            assertEquals(400, status(() -> GpuId.parse(bad)), bad);
        }
        assertEquals(400, status(() -> GpuId.parse("0", "2", "0")), "compute instance 0 is 0/2");
        assertEquals(400, status(() -> GpuId.parse("0", "02", null)));
        assertEquals(400, status(() -> GpuId.parse("GPU-00000000-0000-4000-8000-000000000000", "2", null)),
                "the address takes the GPU's index: a UUID would be a second spelling");
        WebApplicationException zero = assertThrows(WebApplicationException.class, () -> GpuId.parse("0/2/0"));
        assertTrue(zero.getResponse().getEntity().toString().contains("written without it, 0/2"),
                zero.getResponse().getEntity().toString());
    }

    @Test
    void anAddressOrAMigUuidFindsTheMigDeviceAndAGpuFormFindsTheGpu() {
        Snapshot s = snapshot();
        assertEquals(GI2.uuid(), GpuId.parse("0/2").findMig(s).orElseThrow().uuid());
        assertEquals(GI5.uuid(), GpuId.parse("0/5").findMig(s).orElseThrow().uuid(), "0/5 is compute instance 0");
        assertEquals(GI5_CI1.uuid(), GpuId.parse("0/5/1").findMig(s).orElseThrow().uuid());
        assertEquals(GI5_CI1.uuid(), GpuId.parse(GI5_CI1.uuid()).findMig(s).orElseThrow().uuid());
        assertTrue(GpuId.parse("0/3").findMig(s).isEmpty());
        assertTrue(GpuId.parse("1/2").findMig(s).isEmpty(), "GPU 1 is not in MIG mode");
        assertTrue(GpuId.parse("7/2").findMig(s).isEmpty());
        assertTrue(GpuId.parse("0/2").find(s).isEmpty(), "a MIG device is not a GPU");
        assertTrue(GpuId.parse(GI2.uuid()).find(s).isEmpty());
        assertEquals(0, GpuId.parse("0").find(s).orElseThrow().index());
        assertTrue(GpuId.parse("0").findMig(s).isEmpty());
        assertEquals(404, GpuId.parse("0/3").notFound().getResponse().getStatus());
        assertTrue(GpuId.parse("0/3").notFound().getResponse().getEntity().toString().contains("no MIG device 0/3"));
        assertEquals(400, status(() -> GpuId.parse("0/2").requireGpu("cordon, uncordon, drain and reset")));
        assertEquals(400, status(() -> GpuId.parse(GI2.uuid()).requireGpu("cordon")));
        assertEquals(GpuId.parse("0"), GpuId.parse("0").requireGpu("cordon"));
    }

    @Test
    void theEventFilterOfEachForm() {
        AgentEvent ofGi2 = AgentEvent.of(0, Samples.uuid(0), AgentEvent.XID, "xid", "31", "x").withMig(GI2.uuid(), "0/2");
        AgentEvent ofGpu0 = AgentEvent.of(0, Samples.uuid(0), AgentEvent.XID, "xid", "48", "x");
        AgentEvent node = AgentEvent.of(null, null, AgentEvent.NVML, "driver", "UP", "x");
        assertEquals(List.of(true, false, false), matches(GpuId.parse("0/2").events(), ofGi2, ofGpu0, node));
        assertEquals(List.of(true, false, false), matches(GpuId.parse(GI2.uuid()).events(), ofGi2, ofGpu0, node));
        assertEquals(List.of(false, false, false), matches(GpuId.parse("0/5").events(), ofGi2, ofGpu0, node));
        assertEquals(List.of(true, true, false), matches(GpuId.parse("0").events(), ofGi2, ofGpu0, node),
                "a GPU's events include its MIG devices'");
        assertEquals(List.of(true, true, true), matches(EventFilter.ALL, ofGi2, ofGpu0, node));
        assertEquals(List.of(true, true, true), matches(new EventsResource.Query(null, null, null, 1).events(),
                ofGi2, ofGpu0, node));
        assertEquals(GpuId.parse("0/2"), EventsResource.Query.parse(null, "0/2", null).gpu());
        assertEquals(400, status(() -> EventsResource.Query.parse(null, "0/2/0", null)));
    }

    private static List<Boolean> matches(EventFilter f, AgentEvent... events) {
        return java.util.Arrays.stream(events).map(f::matches).toList();
    }

    @Test
    void aGpuInMigModeListsItsMigDevicesInTheViewsAndHealth() throws Exception {
        Samples.TestClock clock = new Samples.TestClock();
        HealthEngine engine = new HealthEngine(Samples.config(Map.of()), clock);
        Snapshot s = snapshot();
        engine.onSnapshot(s);
        engine.onEvent(0, Samples.uuid(0), "", new GpuEvent(null, EventTypes.XID_CRITICAL_ERROR, 31, 2, 0));

        GpuSample gpu0 = s.gpu(0).orElseThrow();
        JsonNode view = mapper.valueToTree(GpuView.of(gpu0, engine.gpu(0, null).orElseThrow(), clock.instant()));
        assertEquals(1.0, view.get("readings").get("mig_mode").asDouble());
        JsonNode devices = view.get("migDevices");
        assertEquals(3, devices.size());
        JsonNode gi2 = devices.get(0);
        assertEquals(Set.of("uuid", "address", "gpu", "parentUuid", "gpuInstanceId", "computeInstanceId", "profile",
                "profileId", "slices", "placementStart", "multiprocessors", "memoryMib", "health", "reasons", "inherited",
                "readings", "processes", "pods", "allocatable"), fields(gi2));
        assertEquals(GI2.uuid(), gi2.get("uuid").asText());
        assertEquals("0/2", gi2.get("address").asText());
        assertEquals("1g.10gb", gi2.get("profile").asText());
        assertEquals(GI2.memoryMib(), gi2.get("memoryMib").asLong());
        assertEquals("DEGRADED", gi2.get("health").asText());
        assertEquals("XID_31", gi2.get("reasons").get(0).get("code").asText());
        assertEquals("0/5/1", devices.get(2).get("address").asText());
        assertEquals("HEALTHY", devices.get(2).get("health").asText());
        assertEquals(0, mapper.valueToTree(GpuView.of(s.gpu(1).orElseThrow(), engine.gpu(1, null).orElseThrow(),
                clock.instant())).get("migDevices").size());

        JsonNode one = mapper.valueToTree(MigView.of(GpuId.parse("0/5/1").findMig(s).orElseThrow(),
                engine.migByUuid(GI5_CI1.uuid())));
        assertEquals(GI5_CI1.uuid(), one.get("uuid").asText());

        HealthReport report = new HealthReport(true, "degraded", null, clock.instant(), new HealthReport.Nvml(true, "lib",
                "580", 2), new HealthReport.Sampling(1, clock.instant(), 0), List.of(), engine.gpus());
        JsonNode health = mapper.valueToTree(report);
        JsonNode listed = health.get("gpus").get(0).get("migDevices");
        assertEquals(3, listed.size());
        assertEquals(Set.of("uuid", "address", "gpu", "parentUuid", "gpuInstanceId", "computeInstanceId", "profile",
                "state", "since", "reasons", "inherited", "actions"), fields(listed.get(0)));
        assertEquals("DEGRADED", listed.get(0).get("state").asText());
        assertEquals(0, health.get("gpus").get(1).get("migDevices").size());
    }

    private static Set<String> fields(JsonNode node) {
        return Set.copyOf(StreamSupport.stream(((Iterable<String>) node::fieldNames).spliterator(), false).toList());
    }
}
