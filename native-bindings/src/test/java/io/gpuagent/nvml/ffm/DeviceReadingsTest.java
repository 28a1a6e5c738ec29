package io.gpuagent.nvml.ffm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.nvml.Bar1Memory;
import io.gpuagent.nvml.ClockEventReasons;
import io.gpuagent.nvml.ClockType;
import io.gpuagent.nvml.ComputeCapability;
import io.gpuagent.nvml.EccCounterType;
import io.gpuagent.nvml.EccMode;
import io.gpuagent.nvml.EngineUtilization;
import io.gpuagent.nvml.FieldIds;
import io.gpuagent.nvml.FieldRequest;
import io.gpuagent.nvml.FieldValue;
import io.gpuagent.nvml.GpmMetricIds;
import io.gpuagent.nvml.GpmMetricValue;
import io.gpuagent.nvml.GpmSample;
import io.gpuagent.nvml.GpuDevice;
import io.gpuagent.nvml.MemoryErrorType;
import io.gpuagent.nvml.MemoryInfo;
import io.gpuagent.nvml.MigMode;
import io.gpuagent.nvml.NvLinkErrorCounter;
import io.gpuagent.nvml.Nvml;
import io.gpuagent.nvml.fake.OpenFakeNvml;
import io.gpuagent.nvml.NvmlException;
import io.gpuagent.nvml.NvmlReturn;
import io.gpuagent.nvml.PciInfo;
import io.gpuagent.nvml.P2pCapability;
import io.gpuagent.nvml.P2pStatus;
import io.gpuagent.nvml.PcieCounter;
import io.gpuagent.nvml.PcieLink;
import io.gpuagent.nvml.PowerConstraints;
import io.gpuagent.nvml.ProcessInfo;
import io.gpuagent.nvml.RecoveryAction;
import io.gpuagent.nvml.RemappedRows;
import io.gpuagent.nvml.RetirementCause;
import io.gpuagent.nvml.TemperatureThreshold;
import io.gpuagent.nvml.Utilization;
import io.gpuagent.nvml.fake.FakeNvml;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.TestInstance;

/** Every GpuDevice reading against the fake, with values set through the scenario file. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DeviceReadingsTest {
    private static final long MIB = 1L << 20;

    @RegisterExtension
    static final OpenFakeNvml FAKE = new OpenFakeNvml();

    private final Nvml nvml = FAKE.nvml();

    @Test
    void identityComesFromTheScenario() {
        FakeNvml.apply("gpu.1.name = NVIDIA A100-SXM4-80GB",
                "gpu.1.uuid = GPU-11111111-2222-3333-4444-555555555555",
                "gpu.1.serial = 1324567890123",
                "gpu.1.minor = 7",
                "gpu.1.pci_bus_id = 00000000:3B:00.0",
                "gpu.1.pci_device_id = 0x20B210DE",
                "gpu.1.pci_subsystem_id = 0x147F10DE",
                "gpu.1.architecture = 7",
                "gpu.1.cc_major = 8",
                "gpu.1.cc_minor = 6",
                "gpu.1.vbios = 92.00.45.00.03",
                "gpu.1.brand = 2");
        GpuDevice gpu = nvml.device(1);
        assertEquals(1, gpu.index());
        assertEquals("NVIDIA A100-SXM4-80GB", gpu.name());
        assertEquals("GPU-11111111-2222-3333-4444-555555555555", gpu.uuid());
        assertEquals("1324567890123", gpu.serial());
        assertEquals(7, gpu.minorNumber());
        PciInfo pci = gpu.pciInfo();
        assertEquals("00000000:3B:00.0", pci.busId());
        assertEquals("00000000:3B:00.0", pci.label());
        assertEquals(0, pci.domain());
        assertEquals(0x3B, pci.bus());
        assertEquals(0, pci.device());
        assertEquals(0x20B210DE, pci.pciDeviceId());
        assertEquals(0x147F10DE, pci.pciSubSystemId());
        assertEquals("0000:3B:00.0", pci.busIdLegacy());
        assertEquals(7, gpu.architecture());
        assertEquals(new ComputeCapability(8, 6), gpu.computeCapability());
        assertEquals("92.00.45.00.03", gpu.vbiosVersion());
        assertEquals(2, gpu.brand());
    }

    @Test
    void defaultMachineIsEightH100sWithDistinctIdentities() {
        List<GpuDevice> gpus = nvml.devices();
        assertEquals(8, gpus.size());
        assertEquals(8, gpus.stream().map(GpuDevice::uuid).distinct().count());
        assertEquals(List.of("00000000:18:00.0", "00000000:2A:00.0", "00000000:3A:00.0", "00000000:5D:00.0",
                "00000000:9A:00.0", "00000000:AB:00.0", "00000000:BA:00.0", "00000000:DB:00.0"),
                gpus.stream().map(g -> g.pciInfo().busId()).toList());
        GpuDevice gpu = gpus.get(0);
        assertEquals("NVIDIA H100 80GB HBM3", gpu.name());
        assertEquals(9, gpu.architecture());
        assertEquals(new ComputeCapability(9, 0), gpu.computeCapability());
        assertEquals("96.00.99.00.01", gpu.vbiosVersion());
        assertEquals(0x233010DE, gpu.pciInfo().pciDeviceId());
    }

    @Test
    void memoryAndUtilization() {
        FakeNvml.apply("gpu.2.memory_total_mib = 81920",
                "gpu.2.memory_used_mib = 1024",
                "gpu.2.memory_reserved_mib = 512",
                "gpu.2.bar1_total_mib = 65536",
                "gpu.2.bar1_used_mib = 3",
                "gpu.2.util_gpu = 37",
                "gpu.2.util_mem = 12",
                "gpu.2.util_enc = 5",
                "gpu.2.util_dec = 6");
        GpuDevice gpu = nvml.device(2);
        assertEquals(new MemoryInfo(81920 * MIB, 512 * MIB, (81920 - 512 - 1024) * MIB, 1024 * MIB, true), gpu.memoryInfo());
        assertEquals(new Bar1Memory(65536 * MIB, (65536 - 3) * MIB, 3 * MIB), gpu.bar1MemoryInfo());
        assertEquals(new Utilization(37, 12), gpu.utilizationRates());
        assertEquals(new EngineUtilization(5, 167000), gpu.encoderUtilization());
        assertEquals(new EngineUtilization(6, 167000), gpu.decoderUtilization());
    }

    @Test
    void temperaturesAndFans() {
        FakeNvml.apply("gpu.*.temp = 45",
                "gpu.3.temp = 71",
                "gpu.3.temp_shutdown = 90",
                "gpu.3.temp_slowdown = 85",
                "gpu.3.temp_mem_max = 94",
                "gpu.3.temp_gpu_max = 83",
                "gpu.3.fans = 2",
                "gpu.3.fan_speed = 55");
        GpuDevice gpu = nvml.device(3);
        assertEquals(71, gpu.temperature());
        assertEquals(45, nvml.device(4).temperature());
        assertEquals(90, gpu.temperatureThreshold(TemperatureThreshold.SHUTDOWN));
        assertEquals(85, gpu.temperatureThreshold(TemperatureThreshold.SLOWDOWN));
        assertEquals(94, gpu.temperatureThreshold(TemperatureThreshold.MEM_MAX));
        assertEquals(83, gpu.temperatureThreshold(TemperatureThreshold.GPU_MAX));
        assertEquals(2, gpu.fanCount());
        assertEquals(55, gpu.fanSpeedPercent(0));
        assertEquals(55, gpu.fanSpeedPercent(1));
        // SXM boards have no fans: a missing capability, not an error.
        assertTrue(assertThrows(NvmlException.class, () -> nvml.device(0).fanCount()).notSupported());
        assertTrue(assertThrows(NvmlException.class, () -> nvml.device(0).fanSpeedPercent(0)).notSupported());
    }

    @Test
    void power() {
        FakeNvml.apply("gpu.4.power_mw = 123456",
                "gpu.4.power_limit_mw = 400000",
                "gpu.4.power_default_limit_mw = 350000",
                "gpu.4.power_enforced_limit_mw = 380000",
                "gpu.4.power_min_limit_mw = 100000",
                "gpu.4.power_max_limit_mw = 450000",
                "gpu.4.energy_mj = 5000000");
        GpuDevice gpu = nvml.device(4);
        assertEquals(123456, gpu.powerUsageMw());
        assertEquals(400000, gpu.powerLimitMw());
        assertEquals(350000, gpu.powerDefaultLimitMw());
        assertEquals(380000, gpu.enforcedPowerLimitMw());
        assertEquals(new PowerConstraints(100000, 450000), gpu.powerLimitConstraints());
        long energy = gpu.totalEnergyMj();
        assertTrue(energy >= 5_000_000, "energy " + energy);
        assertTrue(gpu.totalEnergyMj() >= energy, "the energy counter never goes back");
    }

    @Test
    void unsignedPowerAboveIntMaxIsNotNegative() {
        FakeNvml.apply("gpu.4.power_mw = 3000000000");
        assertEquals(3_000_000_000L, nvml.device(4).powerUsageMw());
    }

    @Test
    void clocks() {
        FakeNvml.apply("gpu.5.clock_graphics = 1410",
                "gpu.5.clock_sm = 1400",
                "gpu.5.clock_mem = 1593",
                "gpu.5.clock_video = 1275",
                "gpu.5.max_clock_graphics = 1980",
                "gpu.5.max_clock_sm = 1970",
                "gpu.5.max_clock_mem = 2619",
                "gpu.5.max_clock_video = 1755",
                "gpu.5.clock_event_reasons = 0x24",
                "gpu.5.supported_clock_event_reasons = 0xff",
                "gpu.5.pstate = 2");
        GpuDevice gpu = nvml.device(5);
        assertEquals(1410, gpu.clockMhz(ClockType.GRAPHICS));
        assertEquals(1400, gpu.clockMhz(ClockType.SM));
        assertEquals(1593, gpu.clockMhz(ClockType.MEM));
        assertEquals(1275, gpu.clockMhz(ClockType.VIDEO));
        assertEquals(1980, gpu.maxClockMhz(ClockType.GRAPHICS));
        assertEquals(1970, gpu.maxClockMhz(ClockType.SM));
        assertEquals(2619, gpu.maxClockMhz(ClockType.MEM));
        assertEquals(1755, gpu.maxClockMhz(ClockType.VIDEO));
        assertEquals(ClockEventReasons.SW_POWER_CAP | ClockEventReasons.SW_THERMAL_SLOWDOWN, gpu.clockEventReasons());
        assertEquals(0xffL, gpu.supportedClockEventReasons());
        assertEquals(2, gpu.performanceState());
        assertEquals(ClockEventReasons.GPU_IDLE, nvml.device(0).clockEventReasons());
    }

    @Test
    void pcieAndTopology() {
        FakeNvml.apply("gpu.6.pcie_tx_kbps = 1111",
                "gpu.6.pcie_rx_kbps = 2222",
                "gpu.6.pcie_replay = 3",
                "gpu.6.pcie_gen = 4",
                "gpu.6.pcie_width = 8",
                "gpu.6.pcie_gen_max = 5",
                "gpu.6.pcie_width_max = 16",
                "topology.0.5 = 30");
        GpuDevice gpu = nvml.device(6);
        assertEquals(1111, gpu.pcieThroughputKBps(PcieCounter.TX_BYTES));
        assertEquals(2222, gpu.pcieThroughputKBps(PcieCounter.RX_BYTES));
        assertEquals(3, gpu.pcieReplayCounter());
        PcieLink link = gpu.pcieLink();
        assertEquals(new PcieLink(4, 8, 5, 16), link);
        assertTrue(link.degraded());
        assertFalse(nvml.device(0).pcieLink().degraded());
        assertEquals(0, nvml.device(0).topologyCommonAncestor(nvml.device(0)));
        assertEquals(20, nvml.device(0).topologyCommonAncestor(nvml.device(3)));
        assertEquals(50, nvml.device(0).topologyCommonAncestor(nvml.device(4)));
        assertEquals(30, nvml.device(0).topologyCommonAncestor(nvml.device(5)));
        assertEquals(30, nvml.device(5).topologyCommonAncestor(nvml.device(0)));
    }

    @Test
    void nvlinkPeerToPeer() {
        // Default: every GPU's 18 links end at the same four NVSwitches, so every pair is NVLink-connected.
        assertEquals(P2pStatus.OK, nvml.device(0).p2pStatus(nvml.device(7), P2pCapability.NVLINK));
        FakeNvml.apply("gpu.3.nvlinks = 0",
                "gpu.4.nvlinks = 1",
                "gpu.4.nvlink.0.remote_pci_bus_id = 00000000:AB:00.0",   // GPU 5's bus: a direct link
                "gpu.5.nvlinks = 0",
                "gpu.6.nvlink.0.active = 0");
        assertEquals(P2pStatus.NOT_SUPPORTED, nvml.device(0).p2pStatus(nvml.device(3), P2pCapability.NVLINK));
        assertEquals(P2pStatus.NOT_SUPPORTED, nvml.device(3).p2pStatus(nvml.device(0), P2pCapability.NVLINK));
        assertEquals(P2pStatus.OK, nvml.device(4).p2pStatus(nvml.device(5), P2pCapability.NVLINK));
        assertEquals(P2pStatus.OK, nvml.device(5).p2pStatus(nvml.device(4), P2pCapability.NVLINK));
        assertEquals(P2pStatus.NOT_SUPPORTED, nvml.device(4).p2pStatus(nvml.device(0), P2pCapability.NVLINK));
        assertEquals(P2pStatus.OK, nvml.device(6).p2pStatus(nvml.device(7), P2pCapability.NVLINK), "17 links still up");
        assertEquals(P2pStatus.OK, nvml.device(0).p2pStatus(nvml.device(3), P2pCapability.READ));
        assertEquals(P2pStatus.OK, nvml.device(0).p2pStatus(nvml.device(4), P2pCapability.PROP));
    }

    @Test
    void eccAndMemoryHealth() {
        FakeNvml.apply("gpu.1.ecc_mode = 1",
                "gpu.1.ecc_pending = 0",
                "gpu.1.ecc_sbe_volatile = 11",
                "gpu.1.ecc_dbe_volatile = 2",
                "gpu.1.ecc_sbe_aggregate = 111",
                "gpu.1.ecc_dbe_aggregate = 22",
                "gpu.1.retired_sbe = 3",
                "gpu.1.retired_dbe = 40",
                "gpu.1.retired_pending = 1",
                "gpu.1.remap_correctable = 4",
                "gpu.1.remap_uncorrectable = 1",
                "gpu.1.remap_pending = 1",
                "gpu.1.remap_failure = 0");
        GpuDevice gpu = nvml.device(1);
        assertEquals(new EccMode(true, false), gpu.eccMode());
        assertEquals(11, gpu.eccErrors(MemoryErrorType.CORRECTED, EccCounterType.VOLATILE));
        assertEquals(2, gpu.eccErrors(MemoryErrorType.UNCORRECTED, EccCounterType.VOLATILE));
        assertEquals(111, gpu.eccErrors(MemoryErrorType.CORRECTED, EccCounterType.AGGREGATE));
        assertEquals(22, gpu.eccErrors(MemoryErrorType.UNCORRECTED, EccCounterType.AGGREGATE));
        assertEquals(3, gpu.retiredPages(RetirementCause.MULTIPLE_SINGLE_BIT_ECC_ERRORS).size());
        // 40 pages is more than the first call makes room for: the INSUFFICIENT_SIZE growth loop runs.
        List<Long> dbe = gpu.retiredPages(RetirementCause.DOUBLE_BIT_ECC_ERROR);
        assertEquals(40, dbe.size());
        assertEquals(40, dbe.stream().distinct().count(), "page addresses are distinct: " + dbe);
        assertTrue(gpu.retiredPagesPending());
        assertEquals(new RemappedRows(4, 1, true, false), gpu.remappedRows());
        assertEquals(List.of(), nvml.device(0).retiredPages(RetirementCause.DOUBLE_BIT_ECC_ERROR));
        assertFalse(nvml.device(0).retiredPagesPending());
        assertEquals(new RemappedRows(0, 0, false, false), nvml.device(0).remappedRows());
    }

    @Test
    void nvLink() {
        FakeNvml.apply("gpu.2.nvlinks = 12",
                "gpu.2.nvlink.3.active = 0",
                "gpu.2.nvlink.2.remote_pci_bus_id = 00000000:07:00.0",
                "gpu.2.nvlink.1.crc_flit = 9",
                "gpu.2.nvlink.1.crc_data = 8",
                "gpu.2.nvlink.1.replay = 7",
                "gpu.2.nvlink.1.recovery = 6",
                "gpu.2.nvlink.1.ecc_data = 5");
        GpuDevice gpu = nvml.device(2);
        assertEquals(12, gpu.nvLinkCount());
        assertEquals(18, nvml.device(0).nvLinkCount());
        assertTrue(gpu.nvLinkActive(0));
        assertFalse(gpu.nvLinkActive(3));
        assertEquals("00000000:07:00.0", gpu.nvLinkRemotePciInfo(2).busId());
        assertEquals(7, gpu.nvLinkRemotePciInfo(2).bus());
        assertEquals(9, gpu.nvLinkErrorCounter(1, NvLinkErrorCounter.DL_CRC_FLIT));
        assertEquals(8, gpu.nvLinkErrorCounter(1, NvLinkErrorCounter.DL_CRC_DATA));
        assertEquals(7, gpu.nvLinkErrorCounter(1, NvLinkErrorCounter.DL_REPLAY));
        assertEquals(6, gpu.nvLinkErrorCounter(1, NvLinkErrorCounter.DL_RECOVERY));
        assertEquals(5, gpu.nvLinkErrorCounter(1, NvLinkErrorCounter.DL_ECC_DATA));
        assertEquals(0, gpu.nvLinkErrorCounter(0, NvLinkErrorCounter.DL_CRC_FLIT));
        assertEquals(NvmlReturn.INVALID_ARGUMENT,
                assertThrows(NvmlException.class, () -> gpu.nvLinkActive(12)).result());
    }

    @Test
    void processes() {
        FakeNvml.apply("gpu.3.compute_processes = 4242:1024,4343:2048",
                "gpu.3.graphics_processes = 5151:512");
        GpuDevice gpu = nvml.device(3);
        assertEquals(List.of(new ProcessInfo(4242, 1024 * MIB, -1, -1), new ProcessInfo(4343, 2048 * MIB, -1, -1)),
                gpu.computeProcesses());
        assertEquals(List.of(new ProcessInfo(5151, 512 * MIB, -1, -1)), gpu.graphicsProcesses());
        assertEquals(List.of(), nvml.device(0).computeProcesses());
    }

    @Test
    void fieldValuesAreReadPerEntry() {
        FakeNvml.apply("gpu.4.mem_temp = 41",
                "gpu.4.ecc_dbe_volatile = 3",
                "gpu.4.pcie_replay = 17",
                "gpu.4.remap_correctable = 2",
                "gpu.4.remap_pending = 1",
                "gpu.4.power_limit_mw = 650000",
                "gpu.4.nvlink.0.crc_flit = 4",
                "gpu.4.nvlink.5.crc_flit = 6");
        List<FieldValue> values = nvml.device(4).fieldValues(List.of(
                FieldRequest.of(FieldIds.MEMORY_TEMP), FieldRequest.of(FieldIds.ECC_DBE_VOL_TOTAL),
                FieldRequest.of(FieldIds.PCIE_REPLAY_COUNTER), FieldRequest.of(FieldIds.REMAPPED_COR),
                FieldRequest.of(FieldIds.REMAPPED_PENDING), FieldRequest.of(FieldIds.POWER_CURRENT_LIMIT),
                FieldRequest.of(FieldIds.NVLINK_CRC_FLIT_ERROR_COUNT_TOTAL), FieldRequest.of(FieldIds.TEMPERATURE_SHUTDOWN_TLIMIT),
                new FieldRequest(FieldIds.NVLINK_THROUGHPUT_DATA_TX, FieldIds.SCOPE_ALL_LINKS)));
        assertEquals(9, values.size());
        values.forEach(v -> assertTrue(v.ok(), v.toString()));
        values.forEach(v -> assertTrue(v.timestampUs() > 1_600_000_000_000_000L, "timestamp in us since 1970: " + v));
        Map<Integer, Long> byId = values.stream().collect(Collectors.toMap(FieldValue::fieldId, FieldValue::asLong));
        assertEquals(41, byId.get(FieldIds.MEMORY_TEMP));
        assertEquals(3, byId.get(FieldIds.ECC_DBE_VOL_TOTAL));
        assertEquals(17, byId.get(FieldIds.PCIE_REPLAY_COUNTER));
        assertEquals(2, byId.get(FieldIds.REMAPPED_COR));
        assertEquals(1, byId.get(FieldIds.REMAPPED_PENDING));
        assertEquals(650000, byId.get(FieldIds.POWER_CURRENT_LIMIT));
        assertEquals(10, byId.get(FieldIds.NVLINK_CRC_FLIT_ERROR_COUNT_TOTAL));
        assertEquals(92, byId.get(FieldIds.TEMPERATURE_SHUTDOWN_TLIMIT));
        assertEquals(FieldIds.SCOPE_ALL_LINKS, values.get(8).scopeId());
        assertEquals(List.of(), nvml.device(4).fieldValues(List.of()));
    }

    @Test
    void anUnknownFieldFailsOnlyItsEntry() {
        List<FieldValue> values = nvml.device(0).fieldValues(List.of(FieldRequest.of(FieldIds.MEMORY_TEMP), FieldRequest.of(9999)));
        assertTrue(values.get(0).ok());
        assertFalse(values.get(1).ok());
        assertEquals(9999, values.get(1).fieldId());
    }

    @Test
    void recoveryActionIsField230() {
        FakeNvml.apply("fields_max = 273", "gpu.5.recovery_action = 2");   // a 565+ driver
        assertEquals(RecoveryAction.NODE_REBOOT, nvml.device(5).recoveryAction());
        assertEquals(RecoveryAction.NONE, nvml.device(0).recoveryAction());
    }

    @Test
    void aFieldNewerThanTheDriverIsNotSupportedNotAnError() {
        FakeNvml.apply("fields_max = 196", "gpu.5.recovery_action = 2");   // a 535 driver: no field 230
        FieldValue v = nvml.device(5).fieldValues(List.of(FieldRequest.of(FieldIds.GET_GPU_RECOVERY_ACTION))).getFirst();
        assertEquals(NvmlReturn.INVALID_ARGUMENT.code(), v.returnCode());
        NvmlException e = assertThrows(NvmlException.class, () -> nvml.device(5).recoveryAction());
        assertTrue(e.notSupported(), e.getMessage());
    }

    @Test
    void moreGpmMetricsThanOneCallAllowsAreAskedInChunks() {
        FakeNvml.apply("gpm_metric_max = 98", "gpu.0.gpm.2 = 40");
        GpuDevice gpu = nvml.device(0);
        int[] ids = new int[150];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = i % 2 == 0 ? GpmMetricIds.SM_UTIL : 3 + i;
        }
        try (GpmSample first = gpu.gpmSample(); GpmSample second = gpu.gpmSample()) {
            List<GpmMetricValue> values = gpu.gpmMetrics(first, second, ids);
            assertEquals(150, values.size());
            assertEquals(GpmMetricIds.SM_UTIL, values.get(148).metricId());
            assertTrue(values.get(148).ok());
            assertEquals(40.0, values.get(148).value(), 1e-9);
        }
    }

    @Test
    void migMode() {
        FakeNvml.apply("gpu.6.mig_mode = 1", "gpu.6.mig_pending = 0", "gpu.7.mig_pending = 1");
        assertEquals(new MigMode(true, false), nvml.device(6).migMode());
        assertEquals(new MigMode(false, true), nvml.device(7).migMode());
    }

    @Test
    void gpmMetricsBetweenTwoSamples() {
        FakeNvml.apply("gpu.1.gpm.2 = 42.5", "gpu.1.gpm.10 = 7.25", "gpu.2.gpm_supported = 0");
        GpuDevice gpu = nvml.device(1);
        assertTrue(gpu.gpmSupported());
        assertFalse(nvml.device(2).gpmSupported());
        NvmlException unsupported = assertThrows(NvmlException.class, () -> nvml.device(2).gpmSample());
        assertTrue(unsupported.notSupported(), unsupported.getMessage());
        try (GpmSample first = gpu.gpmSample(); GpmSample second = gpu.gpmSample()) {
            assertSame(gpu, first.device());
            List<GpmMetricValue> values = gpu.gpmMetrics(first, second, GpmMetricIds.SM_UTIL, GpmMetricIds.DRAM_BW_UTIL,
                    GpmMetricIds.GRAPHICS_UTIL, GpmMetricIds.FP64_UTIL);
            assertEquals(new GpmMetricValue(GpmMetricIds.SM_UTIL, 0, 42.5), values.get(0));
            assertEquals(new GpmMetricValue(GpmMetricIds.DRAM_BW_UTIL, 0, 7.25), values.get(1));
            assertEquals(new GpmMetricValue(GpmMetricIds.GRAPHICS_UTIL, 0, 0.0), values.get(2));
            assertEquals(GpmMetricIds.FP64_UTIL, values.get(3).metricId());
            assertEquals(NvmlReturn.NOT_SUPPORTED.code(), values.get(3).returnCode(), "an unset metric is NOT_SUPPORTED in its entry");
            assertFalse(values.get(3).ok());
            first.close();   // closing twice is harmless
        }
    }

    @Test
    void supportedEventTypes() {
        assertEquals(0xc19fL, nvml.device(0).supportedEventTypes());
        FakeNvml.apply("gpu.0.supported_events = 0x8");
        assertEquals(0x8L, nvml.device(0).supportedEventTypes());
    }

    @Test
    void controlCallsChangeWhatTheDriverReports() {
        GpuDevice gpu = nvml.device(7);
        assertTrue(gpu.persistenceMode());
        long limit = gpu.powerLimitMw();
        try {
            gpu.setPersistenceMode(false);
            assertFalse(gpu.persistenceMode());
            gpu.setPowerLimitMw(300_000);
            assertEquals(300_000, gpu.powerLimitMw());
            gpu.resetApplicationsClocks();
            gpu.resetGpuLockedClocks();
            gpu.resetMemoryLockedClocks();
        } finally {
            gpu.setPersistenceMode(true);
            gpu.setPowerLimitMw(limit);
        }
        assertTrue(gpu.persistenceMode());
        assertEquals(limit, gpu.powerLimitMw());
        assertThrows(IllegalArgumentException.class, () -> gpu.setPowerLimitMw(-1));
    }

    @Test
    void eachControlCallReportsItsOwnFailure() {
        FakeNvml.apply("gpu.7.error.nvmlDeviceResetApplicationsClocks = 4",
                "gpu.7.error.nvmlDeviceResetGpuLockedClocks = 4",
                "gpu.7.error.nvmlDeviceResetMemoryLockedClocks = 4",
                "gpu.7.error.nvmlDeviceSetPersistenceMode = 4",
                "gpu.7.error.nvmlDeviceClearEccErrorCounts = 4");
        GpuDevice gpu = nvml.device(7);
        Map<String, Runnable> calls = new java.util.LinkedHashMap<>();
        calls.put("nvmlDeviceResetApplicationsClocks", gpu::resetApplicationsClocks);
        calls.put("nvmlDeviceResetGpuLockedClocks", gpu::resetGpuLockedClocks);
        calls.put("nvmlDeviceResetMemoryLockedClocks", gpu::resetMemoryLockedClocks);
        calls.put("nvmlDeviceSetPersistenceMode", () -> gpu.setPersistenceMode(true));
        calls.put("nvmlDeviceClearEccErrorCounts", () -> gpu.clearEccErrorCounts(EccCounterType.AGGREGATE));
        calls.forEach((function, call) -> {
            NvmlException e = assertThrows(NvmlException.class, call::run, function);
            assertEquals(function, e.function());
            assertTrue(e.noPermission(), e.getMessage());
        });
    }

    @Test
    void setPowerLimitFallsBackToV1WhenV2IsUnsupported() {
        FakeNvml.apply("gpu.7.unsupported.nvmlDeviceSetPowerManagementLimit_v2 = 1");
        GpuDevice gpu = nvml.device(7);
        long limit = gpu.powerLimitMw();
        try {
            gpu.setPowerLimitMw(250_000);
            assertEquals(250_000, gpu.powerLimitMw());
        } finally {
            gpu.setPowerLimitMw(limit);
        }
        FakeNvml.apply("gpu.7.error.nvmlDeviceSetPowerManagementLimit_v2 = 4");
        NvmlException e = assertThrows(NvmlException.class, () -> gpu.setPowerLimitMw(250_000));
        assertEquals("nvmlDeviceSetPowerManagementLimit_v2", e.function(), "NO_PERMISSION is final, not a reason to try v1");
    }

    @Test
    void clearingEccCountersZeroesTheChosenKind() {
        FakeNvml.apply("gpu.7.ecc_sbe_volatile = 5", "gpu.7.ecc_sbe_aggregate = 9");
        GpuDevice gpu = nvml.device(7);
        gpu.clearEccErrorCounts(EccCounterType.VOLATILE);
        assertEquals(0, gpu.eccErrors(MemoryErrorType.CORRECTED, EccCounterType.VOLATILE));
        assertEquals(9, gpu.eccErrors(MemoryErrorType.CORRECTED, EccCounterType.AGGREGATE));
    }

    @Test
    void theSameIndexIsTheSameDevice() {
        GpuDevice gpu = nvml.device(3);
        assertSame(gpu, nvml.device(3));
        assertSame(gpu, nvml.deviceByUuid(gpu.uuid()));
        assertSame(gpu, nvml.deviceByPciBusId(gpu.pciInfo().busId()));
        assertSame(gpu, nvml.devices().get(3));
        assertNotNull(gpu.toString());
    }
}
