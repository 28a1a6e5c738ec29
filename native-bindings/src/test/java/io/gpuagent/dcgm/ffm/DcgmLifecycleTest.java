package io.gpuagent.dcgm.ffm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.dcgm.Dcgm;
import io.gpuagent.dcgm.DcgmException;
import io.gpuagent.dcgm.DcgmReturn;
import io.gpuagent.dcgm.Entity;
import io.gpuagent.dcgm.GpuAttributes;
import io.gpuagent.nvml.Nvml;
import io.gpuagent.nvml.fake.FakeNvml;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Opening, connecting, failing to, losing the host engine and closing, against the fake DCGM. */
class DcgmLifecycleTest {

    @AfterEach
    void defaults() {
        FakeDcgm.scenario();
    }

    @Test
    void embeddedSeesTheSameGpusAsNvmlJoinedByUuid() {
        Nvml nvml = FakeNvml.shared();
        FakeNvml.awaitApplied(FakeNvml.write("gpus = 4", "gpu.2.uuid = GPU-00000000-2222-4c2b-9d3e-5f7a1b2c3d4e"));
        try (Dcgm dcgm = FakeDcgm.embedded()) {
            assertTrue(dcgm.embedded());
            assertEquals("4.6.0", dcgm.version().major() + "." + dcgm.version().minor() + "." + dcgm.version().patch());
            assertEquals(List.of(0, 1, 2, 3), dcgm.supportedGpus());
            for (int gpu : dcgm.supportedGpus()) {
                GpuAttributes a = dcgm.attributes(gpu);
                assertEquals(nvml.device(gpu).uuid(), a.uuid());
                assertEquals(nvml.device(gpu).name(), a.name());
                assertEquals(nvml.device(gpu).pciInfo().busId(), a.pciBusId());
            }
            assertEquals("GPU-00000000-2222-4c2b-9d3e-5f7a1b2c3d4e", dcgm.attributes(2).uuid());
        }
    }

    @Test
    void remoteConnectsThroughV3WithASchemeAndV2WithoutOneOrOnA40Library() {
        try (Dcgm dcgm = Dcgm.remote(FakeDcgm.LIBRARY.toString(), "tcp://127.0.0.1:5555", Duration.ofSeconds(1))) {
            assertFalse(dcgm.embedded());
            assertEquals(8, dcgm.supportedGpus().size());
        }
        try (Dcgm dcgm = Dcgm.remote(FakeDcgm.LIBRARY_40.toString(), "unix:///run/nv-hostengine.sock", Duration.ofSeconds(1))) {
            assertEquals(0, dcgm.version().minor());
            assertEquals(8, dcgm.supportedGpus().size());
        }
        FakeDcgm.scenario("dcgm.connect_error = -21");
        DcgmException v3 = assertThrows(DcgmException.class,
                () -> Dcgm.remote(FakeDcgm.LIBRARY.toString(), "tcp://10.0.0.1:5555", Duration.ofSeconds(1)));
        assertEquals("dcgmConnect_v3", v3.function());
        assertTrue(v3.connectionLost());
        DcgmException v2 = assertThrows(DcgmException.class,
                () -> Dcgm.remote(FakeDcgm.LIBRARY.toString(), "10.0.0.1", Duration.ofSeconds(1)));
        assertEquals("dcgmConnect_v2", v2.function());
    }

    @Test
    void initAndStartFailuresAreTypedAndLeaveNothingInitialised() {
        FakeDcgm.scenario("dcgm.init_error = -7");
        DcgmException init = assertThrows(DcgmException.class, FakeDcgm::embedded);
        assertEquals(DcgmReturn.INIT_ERROR, init.result());
        assertEquals("dcgmInit", init.function());
        FakeDcgm.scenario("dcgm.start_error = -29");
        DcgmException start = assertThrows(DcgmException.class, FakeDcgm::embedded);
        assertEquals(DcgmReturn.REQUIRES_ROOT, start.result());
        assertEquals("dcgmStartEmbedded_v2", start.function());
        FakeDcgm.scenario();
        try (Dcgm dcgm = FakeDcgm.embedded()) {
            assertEquals(8, dcgm.supportedGpus().size());
        }
    }

    @Test
    void theHostEngineGoingAwayIsConnectionNotValidUntilItIsBack() {
        try (Dcgm dcgm = Dcgm.remote(FakeDcgm.LIBRARY.toString(), "127.0.0.1:5555", Duration.ofSeconds(1))) {
            FakeDcgm.scenario("dcgm.hostengine_gone = 1");
            DcgmException e = assertThrows(DcgmException.class,
                    () -> dcgm.latestValues(List.of(Entity.gpu(0)), new int[] {1002}));
            assertTrue(e.connectionLost(), e.getMessage());
            assertEquals("dcgmEntitiesGetLatestValues", e.function());
            FakeDcgm.scenario();
            assertEquals(8, dcgm.supportedGpus().size());
        }
    }

    @Test
    void aScriptedErrorNamesItsFunction() {
        FakeDcgm.scenario("dcgm.error.dcgmGroupCreate = -34");
        try (Dcgm dcgm = FakeDcgm.embedded()) {
            DcgmException e = assertThrows(DcgmException.class, () -> dcgm.createGroup("g", List.of(Entity.gpu(0))));
            assertEquals(DcgmReturn.IN_USE, e.result());
            assertEquals("dcgmGroupCreate", e.function());
        }
    }

    @Test
    void afterCloseEveryCallIsUninitialisedWithoutReachingTheLibrary() {
        Dcgm dcgm = FakeDcgm.embedded();
        long group = dcgm.createGroup("left", List.of(Entity.gpu(1)));
        assertNotEquals(0, group);
        dcgm.close();
        dcgm.close();
        DcgmException e = assertThrows(DcgmException.class, dcgm::supportedGpus);
        assertEquals(DcgmReturn.UNINITIALIZED, e.result());
        assertEquals("dcgmGetAllSupportedDevices", e.function());
        try (Dcgm again = FakeDcgm.embedded()) {
            assertEquals(8, again.supportedGpus().size());
        }
    }
}
