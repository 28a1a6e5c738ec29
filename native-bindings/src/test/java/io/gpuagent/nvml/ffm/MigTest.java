package io.gpuagent.nvml.ffm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.nvml.ComputeInstance;
import io.gpuagent.nvml.EventSet;
import io.gpuagent.nvml.EventTypes;
import io.gpuagent.nvml.GpmMetricIds;
import io.gpuagent.nvml.GpmMetricValue;
import io.gpuagent.nvml.GpmSample;
import io.gpuagent.nvml.GpuDevice;
import io.gpuagent.nvml.GpuEvent;
import io.gpuagent.nvml.GpuInstance;
import io.gpuagent.nvml.GpuInstanceProfile;
import io.gpuagent.nvml.GpuInstanceProfiles;
import io.gpuagent.nvml.MemoryInfo;
import io.gpuagent.nvml.MigAttributes;
import io.gpuagent.nvml.MigDevice;
import io.gpuagent.nvml.MigMode;
import io.gpuagent.nvml.Nvml;
import io.gpuagent.nvml.NvmlException;
import io.gpuagent.nvml.NvmlReturn;
import io.gpuagent.nvml.ProcessInfo;
import io.gpuagent.nvml.fake.FakeNvml;
import io.gpuagent.nvml.fake.Machines;
import io.gpuagent.nvml.fake.OpenFakeNvml;
import io.gpuagent.nvml.fake.Scenario;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/** MIG through the bindings against the fake: MIG devices, profiles, GPU and compute instances, GPM, events. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MigTest {
    private static final long MIB = 1L << 20;
    /** How R470+ drivers write a MIG device's UUID. */
    private static final Pattern MIG_UUID = Pattern.compile("MIG-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
    private static final int WAIT_MS = 5_000;

    @RegisterExtension
    static final OpenFakeNvml FAKE = new OpenFakeNvml();

    private final Nvml nvml = FAKE.nvml();

    private static NvmlReturn failure(Runnable call) {
        return assertThrows(NvmlException.class, call::run).result();
    }

    @Test
    void theAcceptanceGpuHasThreeOneSliceInstancesAndAThreeSliceOne() {
        FakeNvml.apply(Machines.h100Mig());
        GpuDevice gpu = nvml.device(0);
        assertEquals(new MigMode(true, true), gpu.migMode());
        assertFalse(gpu.isMigDeviceHandle());
        assertEquals(7, gpu.maxMigDeviceCount());
        List<MigDevice> devices = gpu.migDevices();
        // Numbered by GPU instance id, then compute instance id.
        assertEquals(List.of(0, 1, 2, 3), devices.stream().map(MigDevice::slot).toList());
        assertEquals(List.of(2, 7, 8, 9), devices.stream().map(MigDevice::gpuInstanceId).toList());
        assertEquals(List.of(0, 0, 0, 0), devices.stream().map(MigDevice::computeInstanceId).toList());
        for (MigDevice mig : devices) {
            assertSame(gpu, mig.parent());
            assertTrue(MIG_UUID.matcher(mig.uuid()).matches(), mig.uuid());
        }

        MigDevice big = devices.get(0);
        assertEquals(new MigAttributes(60, 3, 3, 0, 3, 0, 3, 3, 40448), big.attributes());
        MemoryInfo memory = big.memoryInfo();
        assertEquals(40448 * MIB, memory.total());
        assertEquals(18432 * MIB, memory.used());
        assertEquals((40448 - 18432) * MIB, memory.free());
        assertEquals(List.of(new ProcessInfo(4100, 18000 * MIB, 2, 0)), big.computeProcesses());

        MigDevice small = devices.get(1);
        assertEquals(new MigAttributes(16, 1, 1, 0, 1, 0, 1, 1, 9984), small.attributes());
        assertEquals(List.of(new ProcessInfo(4101, 4000 * MIB, 7, 0)), small.computeProcesses());
        assertEquals(List.of(), devices.get(2).computeProcesses());
        assertEquals(0, devices.get(3).memoryInfo().used());
    }

    @Test
    void everyGpuOfTheMigMachineHasFourMigDevicesWithUniqueUuids() {
        FakeNvml.apply(Machines.h100Mig());
        Set<String> uuids = new HashSet<>();
        for (GpuDevice gpu : nvml.devices()) {
            List<MigDevice> devices = gpu.migDevices();
            assertEquals(4, devices.size(), gpu + ": " + devices);
            devices.forEach(d -> uuids.add(d.uuid()));
            assertFalse(uuids.contains(gpu.uuid()));
        }
        assertEquals(32, uuids.size());
    }

    @Test
    void aGpuInMigModeAnswersForTheWholeGpu() {
        FakeNvml.apply(Machines.h100Mig());
        GpuDevice gpu = nvml.device(0);
        MemoryInfo memory = gpu.memoryInfo();
        assertEquals(81559 * MIB, memory.total(), "the parent's memory is the whole GPU");
        assertEquals((18432 + 4096) * MIB, memory.used(), "used by its instances");
        assertEquals(List.of(new ProcessInfo(4100, 18000 * MIB, 2, 0), new ProcessInfo(4101, 4000 * MIB, 7, 0)),
                gpu.computeProcesses(), "every instance's processes, with their instance ids");
        assertEquals(NvmlReturn.NOT_SUPPORTED, failure(gpu::utilizationRates));
        assertEquals(NvmlReturn.NOT_SUPPORTED, failure(gpu::remappedRows));
    }

    @Test
    void profilesComeFromTheProductTable() {
        FakeNvml.apply(Machines.h100Mig());
        GpuDevice gpu = nvml.device(0);
        GpuInstanceProfile one = gpu.gpuInstanceProfile(GpuInstanceProfiles.ONE_SLICE);
        assertEquals(new GpuInstanceProfile(19, "MIG 1g.10gb", 1, 7, 16, 1, 1, 0, 1, 0, 9984, false), one);
        assertEquals("1g.10gb", one.shortName());
        assertEquals(List.of("1g.10gb", "2g.20gb", "3g.40gb", "4g.40gb", "7g.80gb", "1g.10gb+me", "1g.20gb"),
                gpu.gpuInstanceProfiles().stream().map(GpuInstanceProfile::shortName).toList(), "in index order");
        assertEquals(List.of(19, 14, 9, 5, 0, 20, 15), gpu.gpuInstanceProfiles().stream().map(GpuInstanceProfile::id).toList());
        // The header: NOT_SUPPORTED for a profile the GPU lacks, INVALID_ARGUMENT past the profile indices.
        assertEquals(NvmlReturn.NOT_SUPPORTED, failure(() -> gpu.gpuInstanceProfile(GpuInstanceProfiles.SIX_SLICE)));
        assertEquals(NvmlReturn.INVALID_ARGUMENT, failure(() -> gpu.gpuInstanceProfile(GpuInstanceProfiles.COUNT)));
    }

    @Test
    void aDriverThatRefusesTheVersionedStructGetsTheUnversionedCall() {
        FakeNvml.apply(Machines.h100Mig().line("error.nvmlDeviceGetGpuInstanceProfileInfoV = 25"));
        // The v1 struct has no name; the numbers are the same.
        assertEquals(new GpuInstanceProfile(9, "", 3, 2, 60, 3, 3, 0, 3, 0, 40448, false),
                nvml.device(0).gpuInstanceProfile(GpuInstanceProfiles.THREE_SLICE));
        FakeNvml.apply(Machines.h100Mig().line("gpu.0.unsupported.nvmlDeviceGetGpuInstanceProfileInfoV = 1"));
        assertEquals(NvmlReturn.NOT_SUPPORTED, failure(() -> nvml.device(0).gpuInstanceProfile(GpuInstanceProfiles.THREE_SLICE)),
                "NOT_SUPPORTED is the answer about the profile, not a reason to ask the older call");
    }

    @Test
    void otherProductsHaveTheirOwnTables() {
        FakeNvml.apply(Scenario.gpus(3)
                .gpu(0, "name", "NVIDIA A100-SXM4-40GB").migMode(0, true, true)
                .gpu(1, "name", "NVIDIA A100 80GB PCIe").migMode(1, true, true)
                .gpu(2, "name", "NVIDIA H200").migMode(2, true, true));
        assertEquals(new GpuInstanceProfile(19, "MIG 1g.5gb", 1, 7, 14, 1, 0, 0, 0, 0, 4864, false),
                nvml.device(0).gpuInstanceProfile(GpuInstanceProfiles.ONE_SLICE));
        assertEquals(new GpuInstanceProfile(0, "MIG 7g.80gb", 7, 1, 98, 7, 5, 0, 1, 1, 80896, false),
                nvml.device(1).gpuInstanceProfile(GpuInstanceProfiles.SEVEN_SLICE));
        assertEquals(new GpuInstanceProfile(14, "MIG 2g.35gb", 2, 3, 32, 2, 2, 0, 2, 0, 33280, false),
                nvml.device(2).gpuInstanceProfile(GpuInstanceProfiles.TWO_SLICE));
    }

    @Test
    void gpuInstancesCarryTheirProfilesAndPlacements() {
        FakeNvml.apply(Machines.h100Mig());
        GpuDevice gpu = nvml.device(0);
        assertEquals(List.of(new GpuInstance(7, 19, 0, 1), new GpuInstance(8, 19, 1, 1), new GpuInstance(9, 19, 2, 1)),
                gpu.gpuInstances(19));
        assertEquals(List.of(new GpuInstance(2, 9, 4, 4)), gpu.gpuInstances(9));
        assertEquals(List.of(), gpu.gpuInstances(14));
        assertEquals(List.of(2, 7, 8, 9), gpu.gpuInstances().stream().map(GpuInstance::id).toList());
        assertEquals(NvmlReturn.INVALID_ARGUMENT, failure(() -> gpu.gpuInstances(3)), "no profile has id 3");
        assertEquals(List.of(new ComputeInstance(0, 2, 0, 3)), gpu.computeInstances(2));
        assertEquals(NvmlReturn.NOT_FOUND, failure(() -> gpu.computeInstances(5)));
    }

    @Test
    void computeInstancesSplitAGpuInstanceIntoSeveralMigDevices() {
        FakeNvml.apply(Machines.h100Mig());
        GpuDevice gpu = nvml.device(7);
        assertEquals(List.of(new ComputeInstance(0, 0, 0, 1), new ComputeInstance(1, 0, 1, 1), new ComputeInstance(2, 0, 2, 1)),
                gpu.computeInstances(2));
        List<MigDevice> devices = gpu.migDevices();
        assertEquals(List.of("1/0", "2/0", "2/1", "2/2"),
                devices.stream().map(d -> d.gpuInstanceId() + "/" + d.computeInstanceId()).toList());
        // A 1-slice compute instance: its own SMs, the GPU instance's engines and memory.
        assertEquals(new MigAttributes(16, 3, 3, 0, 3, 0, 3, 1, 40448), devices.get(2).attributes());
        assertEquals(new MigAttributes(60, 3, 3, 0, 3, 0, 3, 3, 40448), devices.get(0).attributes());
    }

    @Test
    void aProcessRunsInOneComputeInstance() {
        FakeNvml.apply(Machines.h100Mig().migComputeProcesses(7, 2, "500:100:1, 501:200:2"));
        List<MigDevice> devices = nvml.device(7).migDevices();
        assertEquals(List.of(), devices.get(1).computeProcesses());
        assertEquals(List.of(new ProcessInfo(500, 100 * MIB, 2, 1)), devices.get(2).computeProcesses());
        assertEquals(List.of(new ProcessInfo(501, 200 * MIB, 2, 2)), devices.get(3).computeProcesses());
    }

    @Test
    void aGpuOutsideMigModeHasNoMigDevices() {
        GpuDevice gpu = nvml.device(1);
        assertEquals(new MigMode(false, false), gpu.migMode());
        assertEquals(0, gpu.maxMigDeviceCount());
        assertEquals(List.of(), gpu.migDevices());
        assertEquals(List.of(), gpu.gpuInstanceProfiles());
        assertEquals(NvmlReturn.NOT_SUPPORTED, failure(() -> gpu.gpuInstances(19)));
        assertEquals(NvmlReturn.NOT_SUPPORTED, failure(() -> gpu.computeInstances(1)));
        assertEquals(NvmlReturn.NOT_SUPPORTED, failure(() -> gpu.gpmMigSample(1)));
    }

    @Test
    void aGpuWithoutMigAnswersNotSupported() {
        FakeNvml.apply(Scenario.gpus(2).gpu(1, "name", "NVIDIA L40S"));
        GpuDevice gpu = nvml.device(1);
        assertEquals(NvmlReturn.NOT_SUPPORTED, failure(gpu::migMode));
        assertFalse(gpu.isMigDeviceHandle());
        assertEquals(0, gpu.maxMigDeviceCount());
        assertEquals(List.of(), gpu.migDevices());
    }

    @Test
    void aPendingModeChangeIsVisible() {
        FakeNvml.apply(Scenario.gpus(2).migMode(0, false, true).migMode(1, true, false));
        assertEquals(new MigMode(false, true), nvml.device(0).migMode());
        assertEquals(new MigMode(true, false), nvml.device(1).migMode());
    }

    @Test
    void aMigDeviceIsFoundByItsUuidInBothForms() {
        FakeNvml.apply(Machines.h100Mig().migUuid(0, 8, "MIG-0f1e2d3c-4b5a-5968-8776-a5b4c3d2e1f0"));
        MigDevice mig = nvml.migDeviceByUuid("MIG-0f1e2d3c-4b5a-5968-8776-a5b4c3d2e1f0");
        assertSame(nvml.device(0), mig.parent());
        assertEquals(2, mig.slot());
        assertEquals(8, mig.gpuInstanceId());
        assertEquals(0, mig.computeInstanceId());
        MigDevice legacy = nvml.migDeviceByUuid("MIG-" + nvml.device(0).uuid() + "/8/0");
        assertEquals(mig.uuid(), legacy.uuid());
        assertEquals(NvmlReturn.NOT_FOUND, failure(() -> nvml.deviceByUuid(mig.uuid())), "a MIG device is not a GPU");
        assertEquals(NvmlReturn.NOT_FOUND, failure(() -> nvml.migDeviceByUuid(nvml.device(0).uuid())));
        assertEquals(NvmlReturn.NOT_FOUND, failure(() -> nvml.migDeviceByUuid("MIG-00000000-0000-5000-8000-000000000000")));
    }

    @Test
    void gpmIsSampledPerGpuInstance() {
        FakeNvml.apply(Machines.h100Mig());
        GpuDevice gpu = nvml.device(0);
        try (GpmSample first = gpu.gpmMigSample(2); GpmSample second = gpu.gpmMigSample(2);
             GpmSample other = gpu.gpmMigSample(7); GpmSample whole = gpu.gpmSample()) {
            List<GpmMetricValue> values = gpu.gpmMetrics(first, second, GpmMetricIds.GRAPHICS_UTIL, GpmMetricIds.SM_UTIL,
                    GpmMetricIds.FP64_UTIL);
            assertEquals(62.5, values.get(0).value());
            assertEquals(58.0, values.get(1).value());
            assertFalse(values.get(2).ok(), "a metric the instance does not serve answers in its entry");
            try (GpmSample later = gpu.gpmMigSample(7)) {
                assertEquals(12.0, gpu.gpmMetrics(other, later, GpmMetricIds.GRAPHICS_UTIL).get(0).value());
            }
            // Samples of two instances (or an instance and the whole GPU) do not make an interval.
            assertEquals(NvmlReturn.INVALID_ARGUMENT, failure(() -> gpu.gpmMetrics(first, other, GpmMetricIds.GRAPHICS_UTIL)));
            assertEquals(NvmlReturn.INVALID_ARGUMENT, failure(() -> gpu.gpmMetrics(whole, second, GpmMetricIds.GRAPHICS_UTIL)));
        }
        assertEquals(NvmlReturn.INVALID_ARGUMENT, failure(() -> gpu.gpmMigSample(5)), "no GPU instance 5");
    }

    @Test
    void anXidOnAnInstanceCarriesItsIds() {
        FakeNvml.apply(Machines.h100Mig());
        try (EventSet set = nvml.createEventSet()) {
            set.register(nvml.device(0), EventTypes.XID_CRITICAL_ERROR);
            FakeNvml.apply(Machines.h100Mig().xid(0, 43, 2, 0).xid(0, 31, 7).xid(0, 79));
            GpuEvent onCompute = set.await(WAIT_MS).orElseThrow();
            assertSame(nvml.device(0), onCompute.device(), "the GPU's handle, not a MIG handle");
            assertEquals(43, onCompute.eventData());
            assertEquals(2, onCompute.gpuInstanceId());
            assertEquals(0, onCompute.computeInstanceId());
            GpuEvent onInstance = set.await(WAIT_MS).orElseThrow();
            assertEquals(7, onInstance.gpuInstanceId());
            assertEquals(-1, onInstance.computeInstanceId(), "0xFFFFFFFF: no compute instance named");
            GpuEvent gpuWide = set.await(WAIT_MS).orElseThrow();
            assertEquals(-1, gpuWide.gpuInstanceId());
            assertEquals(-1, gpuWide.computeInstanceId());
        }
    }

    @Test
    void aReloadThatDestroysAnInstanceInvalidatesItsHandle() {
        FakeNvml.apply(Machines.h100Mig());
        GpuDevice gpu = nvml.device(0);
        MigDevice before = gpu.migDevices().get(3);
        assertEquals(9, before.gpuInstanceId());
        FakeNvml.apply(Machines.h100Mig().migMemoryUsed(0, 8, 100));
        assertEquals(0, before.memoryInfo().used(), "a reload that keeps the instances keeps their handles");

        FakeNvml.apply(Machines.h100Mig().line("gpu.0.mig.9.profile = none"));
        // Outside strict mode the driver's answer to a handle it no longer knows (strict aborts: StrictModeTest).
        assertEquals(NvmlReturn.INVALID_ARGUMENT, failure(before::memoryInfo));
        assertEquals(List.of(2, 7, 8), gpu.migDevices().stream().map(MigDevice::gpuInstanceId).toList());
    }

    @Test
    void aReloadThatRecreatesTheSameIdsStillReplacesTheHandles() {
        FakeNvml.apply(Machines.h100Mig());
        MigDevice before = nvml.device(1).migDevices().get(2);
        // GPU 1 reconfigured: GPU instance 3 becomes a 1g.20gb. Instance 11 keeps its id and slot, yet the
        // reconfiguration replaced every MIG handle of the GPU.
        FakeNvml.apply(Machines.h100Mig().line("gpu.1.mig.3.profile = none").line("gpu.1.mig.3.profile = 1g.20gb"));
        MigDevice after = nvml.device(1).migDevices().get(2);
        assertEquals(11, after.gpuInstanceId());
        assertEquals(before.gpuInstanceId(), after.gpuInstanceId());
        assertEquals(before.uuid(), after.uuid());
        assertEquals(NvmlReturn.INVALID_ARGUMENT, failure(before::attributes));
        assertEquals(16, after.attributes().multiprocessorCount());
        assertEquals(26, nvml.device(1).migDevices().get(0).attributes().multiprocessorCount(), "the new 1g.20gb");
    }
}
