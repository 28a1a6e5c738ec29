package io.gpuagent.dcgm.ffm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.dcgm.Dcgm;
import io.gpuagent.dcgm.DcgmException;
import io.gpuagent.dcgm.DcgmReturn;
import io.gpuagent.dcgm.Entity;
import io.gpuagent.dcgm.EntityGroup;
import io.gpuagent.dcgm.FieldData;
import io.gpuagent.dcgm.FieldValue;
import io.gpuagent.dcgm.HealthIncident;
import io.gpuagent.dcgm.HealthReport;
import io.gpuagent.dcgm.HealthResult;
import io.gpuagent.dcgm.HealthSystems;
import io.gpuagent.dcgm.MigEntity;
import io.gpuagent.nvml.Nvml;
import io.gpuagent.nvml.fake.FakeNvml;
import io.gpuagent.nvml.fake.Machines;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Watches, latest values (per GPU and per GPU instance), the MIG hierarchy and health, against the fake DCGM. */
class DcgmValuesTest {

    private static final int SM_ACTIVE = 1002;
    private static final int PIPE_TENSOR_ACTIVE = 1004;
    private static final int DRAM_ACTIVE = 1005;
    private static final int GPU_TEMP = 150;

    @AfterEach
    void defaults() {
        FakeDcgm.scenario();
    }

    @Test
    void watchedProfilingFieldsServeTheScenarioValuesByEntity() {
        FakeDcgm.scenario("gpus = 4", "gpu.*.name = NVIDIA A100-SXM4-80GB",
                "dcgm.gpu.*.field.1002 = 0.25", "dcgm.gpu.1.field.1002 = 0.75", "dcgm.gpu.1.field.1004 = 0.5",
                "dcgm.gpu.1.field.1005 = 1", "dcgm.gpu.1.field.150 = 41", "dcgm.gpu.2.field_status.1004 = -6");
        try (Dcgm dcgm = FakeDcgm.embedded()) {
            List<Entity> gpus = List.of(Entity.gpu(0), Entity.gpu(1), Entity.gpu(2));
            long group = dcgm.createGroup("prof", gpus);
            int[] fields = {SM_ACTIVE, PIPE_TENSOR_ACTIVE, DRAM_ACTIVE, GPU_TEMP};
            long fieldGroup = dcgm.createFieldGroup("prof", fields);
            dcgm.watchFields(group, fieldGroup, Duration.ofSeconds(1), Duration.ofMinutes(1), 0);

            List<FieldValue> values = dcgm.latestValues(gpus, fields);
            assertEquals(12, values.size());
            FieldValue gpu1Sm = values.get(4);
            assertEquals(Entity.gpu(1), gpu1Sm.entity());
            assertEquals(SM_ACTIVE, gpu1Sm.fieldId());
            assertEquals(new FieldData.Dbl(0.75), gpu1Sm.data());
            assertTrue(gpu1Sm.timestampMicros() > 0);
            assertEquals(new FieldData.Dbl(0.5), values.get(5).data());
            assertEquals(new FieldData.Dbl(1.0), values.get(6).data(), "a ratio is a double whatever its text");
            assertEquals(new FieldData.Int(41), values.get(7).data());
            assertEquals(0.25, values.get(0).asDouble());
            assertEquals(DcgmReturn.NO_DATA.code(), values.get(1).status(), "watched, no value in the scenario");
            assertInstanceOf(FieldData.Blank.class, values.get(1).data());
            assertEquals(DcgmReturn.NOT_SUPPORTED.code(), values.get(9).status());

            List<FieldValue> unwatched = dcgm.latestValues(List.of(Entity.gpu(3)), new int[] {SM_ACTIVE});
            assertEquals(DcgmReturn.NOT_WATCHED.code(), unwatched.getFirst().status());

            dcgm.unwatchFields(group, fieldGroup);
            assertEquals(DcgmReturn.NOT_WATCHED.code(), dcgm.latestValues(gpus, fields).get(4).status());
            dcgm.destroyFieldGroup(fieldGroup);
            dcgm.destroyGroup(group);
        }
    }

    @Test
    void theMigHierarchyNamesEachInstanceWithItsGpuUuidAndServesGpuInstanceValues() throws Exception {
        String mig = Machines.h100Mig().text();
        Nvml nvml = FakeNvml.shared();
        FakeNvml.awaitApplied(FakeNvml.write(mig, "dcgm.gpu.0.mig.2.field.1002 = 0.625", "dcgm.gpu.0.mig.7.field.1002 = 0.12"));
        try (Dcgm dcgm = FakeDcgm.embedded()) {
            List<MigEntity> hierarchy = dcgm.migHierarchy();
            List<MigEntity> gpu0 = hierarchy.stream().filter(e -> e.gpuIndex() == 0).toList();
            List<MigEntity> instances = gpu0.stream().filter(e -> e.entity().group() == EntityGroup.GPU_I).toList();
            assertEquals(List.of(2, 7, 8, 9), instances.stream().map(MigEntity::gpuInstanceId).sorted().toList());
            for (MigEntity e : gpu0) {
                assertEquals(nvml.device(0).uuid(), e.gpuUuid());
            }
            Map<Integer, MigEntity> byGi = instances.stream()
                    .collect(Collectors.toMap(MigEntity::gpuInstanceId, Function.identity()));
            assertEquals(Entity.gpu(0), byGi.get(2).parent());
            assertEquals(-1, byGi.get(2).computeInstanceId());
            assertEquals(3, byGi.get(2).slices());
            List<MigEntity> computes = gpu0.stream().filter(e -> e.entity().group() == EntityGroup.GPU_CI).toList();
            assertEquals(4, computes.size());
            for (MigEntity c : computes) {
                assertEquals(byGi.get(c.gpuInstanceId()).entity(), c.parent());
            }
            assertEquals(8, hierarchy.stream().map(MigEntity::gpuIndex).distinct().count(), "every GPU is in MIG mode");

            List<Entity> gis = List.of(byGi.get(2).entity(), byGi.get(7).entity(), byGi.get(8).entity());
            long group = dcgm.createGroup("mig", gis);
            long fields = dcgm.createFieldGroup("mig", new int[] {SM_ACTIVE});
            dcgm.watchFields(group, fields, Duration.ofSeconds(1), Duration.ofMinutes(1), 0);
            List<FieldValue> values = dcgm.latestValues(gis, new int[] {SM_ACTIVE});
            assertEquals(new FieldData.Dbl(0.625), values.get(0).data());
            assertEquals(new FieldData.Dbl(0.12), values.get(1).data());
            assertEquals(DcgmReturn.NO_DATA.code(), values.get(2).status());
            dcgm.destroyGroup(group);
            dcgm.destroyFieldGroup(fields);
        } finally {
            FakeNvml.reset();
        }
    }

    @Test
    void healthIncidentsCarryTheirDcgmFrCodeForTheWatchedSystemsOnly() {
        FakeDcgm.scenario("dcgm.gpu.3.health.1 = mem fail 95 Uncorrectable ECC error on GPU 3",
                "dcgm.gpu.3.health.2 = pcie warn 19 PCIe replay rate high", "dcgm.gpu.5.health.1 = thermal fail 37 too hot");
        try (Dcgm dcgm = FakeDcgm.embedded()) {
            long group = dcgm.createGroup("health", List.of(Entity.gpu(3), Entity.gpu(4)));
            dcgm.setHealthWatches(group, HealthSystems.MEM | HealthSystems.THERMAL, Duration.ofSeconds(10),
                    Duration.ofMinutes(10));
            HealthReport report = dcgm.healthCheck(group);
            assertEquals(HealthResult.FAIL, report.overall());
            assertEquals(List.of(new HealthIncident(Entity.gpu(3), HealthSystems.MEM, HealthResult.FAIL, 95,
                    "Uncorrectable ECC error on GPU 3")), report.incidents());

            dcgm.setHealthWatches(group, HealthSystems.ALL, Duration.ofSeconds(10), Duration.ofMinutes(10));
            assertEquals(2, dcgm.healthCheck(group).incidents().size(), "GPU 5's incident is not in the group");
            dcgm.setHealthWatches(Dcgm.ALL_GPUS, HealthSystems.THERMAL, Duration.ofSeconds(10), Duration.ofMinutes(10));
            assertEquals(List.of(new HealthIncident(Entity.gpu(5), HealthSystems.THERMAL, HealthResult.FAIL, 37, "too hot")),
                    dcgm.healthCheck(Dcgm.ALL_GPUS).incidents());
            FakeDcgm.scenario();
            assertEquals(new HealthReport(HealthResult.PASS, List.of()), dcgm.healthCheck(group),
                    "the reused buffer holds nothing of the last answer");
            dcgm.destroyGroup(group);
        }
    }

    @Test
    void aGroupOfAnEntityThatDoesNotExistIsRefusedAndRemoved() {
        try (Dcgm dcgm = FakeDcgm.embedded()) {
            DcgmException e = assertThrows(DcgmException.class,
                    () -> dcgm.createGroup("bad", List.of(Entity.gpu(0), new Entity(EntityGroup.GPU_I, 3))));
            assertEquals(DcgmReturn.BADPARAM, e.result());
            assertEquals("dcgmGroupAddEntity", e.function());
        }
    }
}
