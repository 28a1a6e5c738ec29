package io.gpuagent.agent.health.detect;

import static io.gpuagent.agent.health.Samples.T0;
import static io.gpuagent.agent.health.Samples.healthy;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.exporter.GpuSample;
import io.gpuagent.exporter.GpuStatus;
import io.gpuagent.exporter.NvLinkInfo;
import io.gpuagent.exporter.Reading;
import io.gpuagent.nvml.ClockEventReasons;
import io.gpuagent.nvml.EventTypes;
import io.gpuagent.nvml.GpuEvent;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** Each detector on its own: the condition gives the right state, code, message and stickiness; none without it. */
class DetectorsTest {

    static final String GPU = "GPU-test-0";

    static Instant at(long seconds) {
        return T0.plusSeconds(seconds);
    }

    static Finding only(List<Finding> findings) {
        assertEquals(1, findings.size(), findings::toString);
        return findings.getFirst();
    }

    static GpuEvent event(long type, long data) {
        return new GpuEvent(null, type, data, -1, -1);
    }

    static void assertFinding(Finding f, String detector, String code, HealthState state, boolean sticky) {
        assertEquals(detector, f.detector(), f::toString);
        assertEquals(code, f.code(), f::toString);
        assertEquals(state, f.state(), f::toString);
        assertEquals(sticky, f.sticky(), f::toString);
        assertFalse(f.message().isBlank());
        assertFalse(f.action().isBlank());
    }

    @Test
    void aHealthyGpuHasNoFindings() {
        GpuSample ok = healthy(0).build();
        for (Detector d : List.of(XidDetector.withOverrides(Map.of()), new EccDetector(Duration.ofMinutes(5), 100),
                new RemapDetector(), new RetiredPagesDetector(10), new ThermalDetector(5, 1, Duration.ofSeconds(30)),
                new ClocksDetector(Duration.ofSeconds(30)), new PcieDetector(Duration.ofMinutes(5), 8),
                new NvLinkDetector(Duration.ofMinutes(5), 1, 100), new LostDetector(), new DriverDetector())) {
            assertEquals(List.of(), d.evaluate(GPU, ok, at(0)), d.name());
            assertEquals(List.of(), d.evaluate(GPU, ok, at(600)), d.name());
        }
    }

    @Nested
    class Xid {
        final XidDetector xid = XidDetector.withOverrides(Map.of("13", XidClass.FATAL, "46", XidClass.IGNORE));

        @Test
        void defaultClassesFollowFaultsMd() {
            XidDetector d = XidDetector.withOverrides(Map.of());
            for (int code : new int[] {13, 31, 43, 45, 63, 92, 94, 1, 999}) {
                assertEquals(XidClass.WARNING, d.classOf(code), "XID " + code);
            }
            for (int code : new int[] {46, 48, 61, 62, 64, 74, 95, 109, 119, 120, 140, 143}) {
                assertEquals(XidClass.FATAL, d.classOf(code), "XID " + code);
            }
            assertEquals(XidClass.LOST, d.classOf(79));
        }

        @Test
        void fatalIsStickyUnhealthyWithItsAction() {
            Finding f = only(XidDetector.withOverrides(Map.of()).onEvent(GPU, event(EventTypes.XID_CRITICAL_ERROR, 48), at(0)));
            assertFinding(f, "xid", "XID_48", HealthState.UNHEALTHY, true);
            assertTrue(f.message().contains("double-bit ECC"), f.message());
            assertEquals(List.of(RepairAction.DRAIN_AND_RESET), f.actions());
        }

        @Test
        void seventyNineIsLostAndWantsAReboot() {
            Finding f = only(XidDetector.withOverrides(Map.of()).onEvent(GPU, event(EventTypes.XID_CRITICAL_ERROR, 79), at(0)));
            assertFinding(f, "xid", "XID_79", HealthState.LOST, true);
            assertEquals(List.of(RepairAction.REBOOT), f.actions());
        }

        @Test
        void warningDegradesWithoutStickingAndUnknownCodesAreWarnings() {
            XidDetector d = XidDetector.withOverrides(Map.of());
            assertFinding(only(d.onEvent(GPU, event(EventTypes.XID_CRITICAL_ERROR, 31), at(0))), "xid", "XID_31",
                    HealthState.DEGRADED, false);
            assertFinding(only(d.onEvent(GPU, event(EventTypes.XID_CRITICAL_ERROR, 12345), at(0))), "xid", "XID_12345",
                    HealthState.DEGRADED, false);
        }

        @Test
        void configuredClassesOverrideTheTable() {
            assertFinding(only(xid.onEvent(GPU, event(EventTypes.XID_CRITICAL_ERROR, 13), at(0))), "xid", "XID_13",
                    HealthState.UNHEALTHY, true);
            assertEquals(List.of(), xid.onEvent(GPU, event(EventTypes.XID_CRITICAL_ERROR, 46), at(0)));
        }

        @Test
        void aRepeatEscalates() {
            XidDetector d = XidDetector.withOverrides(Map.of());
            assertEquals(List.of(RepairAction.DRAIN_AND_RESET), only(d.onEvent(GPU, event(EventTypes.XID_CRITICAL_ERROR, 119), at(0))).actions());
            Finding again = only(d.onEvent(GPU, event(EventTypes.XID_CRITICAL_ERROR, 119), at(1)));
            assertEquals(List.of(RepairAction.DRAIN_AND_RESET, RepairAction.REBOOT), again.actions());
            assertTrue(again.message().contains("2 times"), again.message());
        }

        @Test
        void otherEventsAndBadKeysAreNotXids() {
            assertEquals(List.of(), xid.onEvent(GPU, event(EventTypes.PSTATE, 0), at(0)));
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> XidDetector.withOverrides(Map.of("abc", XidClass.FATAL)));
            assertTrue(e.getMessage().contains("gpu-agent.health.xid-class.abc"));
        }
    }

    @Nested
    class Ecc {
        final EccDetector ecc = new EccDetector(Duration.ofSeconds(60), 100);

        @Test
        void uncorrectedGrowthIsStickyUnhealthyOnce() {
            ecc.evaluate(GPU, healthy(0).build(), at(0));
            Finding f = only(ecc.evaluate(GPU, healthy(0).set(Reading.ECC_DBE_VOLATILE, 2).build(), at(1)));
            assertFinding(f, "ecc", "ECC_UNCORRECTED", HealthState.UNHEALTHY, true);
            assertTrue(f.message().contains("volatile count 2, was 0"), f.message());
            assertEquals(List.of(), ecc.evaluate(GPU, healthy(0).set(Reading.ECC_DBE_VOLATILE, 2).build(), at(2)),
                    "no growth, no new finding (the reason itself is sticky)");
        }

        @Test
        void anUncorrectedCountAlreadyThereAtStartCounts() {
            assertFinding(only(ecc.evaluate(GPU, healthy(0).set(Reading.ECC_DBE_VOLATILE, 1).build(), at(0))), "ecc",
                    "ECC_UNCORRECTED", HealthState.UNHEALTHY, true);
        }

        @Test
        void correctedRateOverTheThresholdDegradesUntilTheWindowPasses() {
            // 100 per hour over a 60 s window: more than 1.67 errors in the window.
            ecc.evaluate(GPU, healthy(0).set(Reading.ECC_SBE_VOLATILE, 10).build(), at(0));
            assertEquals(List.of(), ecc.evaluate(GPU, healthy(0).set(Reading.ECC_SBE_VOLATILE, 11).build(), at(10)));
            Finding f = only(ecc.evaluate(GPU, healthy(0).set(Reading.ECC_SBE_VOLATILE, 13).build(), at(20)));
            assertFinding(f, "ecc", "ECC_CORRECTED_RATE", HealthState.DEGRADED, false);
            assertTrue(f.message().startsWith("3 corrected ECC errors in the last 60 s"), f.message());
            assertEquals(List.of(), ecc.evaluate(GPU, healthy(0).set(Reading.ECC_SBE_VOLATILE, 13).build(), at(80)));
        }

        @Test
        void driverEvents() {
            assertFinding(only(ecc.onEvent(GPU, event(EventTypes.DOUBLE_BIT_ECC_ERROR, 0), at(0))), "ecc", "ECC_UNCORRECTED",
                    HealthState.UNHEALTHY, true);
            assertFinding(only(ecc.onEvent(GPU, event(EventTypes.SINGLE_BIT_ECC_ERROR_STORM, 0), at(0))), "ecc",
                    "ECC_CORRECTED_STORM", HealthState.DEGRADED, false);
        }
    }

    @Nested
    class Remap {
        @Test
        void pendingAndFailureAreStickyUnhealthy() {
            RemapDetector d = new RemapDetector();
            assertFinding(only(d.evaluate(GPU, healthy(0).set(Reading.ROW_REMAP_PENDING, 1).build(), at(0))), "remap",
                    "ROW_REMAP_PENDING", HealthState.UNHEALTHY, true);
            Finding f = only(d.evaluate(GPU, healthy(0).set(Reading.ROW_REMAP_FAILURE, 1).build(), at(0)));
            assertFinding(f, "remap", "ROW_REMAP_FAILURE", HealthState.UNHEALTHY, true);
            assertEquals(List.of(RepairAction.DRAIN_AND_RESET, RepairAction.INSPECT_HARDWARE), f.actions());
            assertEquals("ROW_REMAP_FAILURE", only(d.onEvent(GPU, event(EventTypes.DRAM_RETIREMENT_FAILURE, 0), at(0))).code());
        }
    }

    @Nested
    class RetiredPages {
        @Test
        void pendingDegradesAndOverTheLimitIsUnhealthy() {
            RetiredPagesDetector d = new RetiredPagesDetector(10);
            assertFinding(only(d.evaluate(GPU, healthy(0).set(Reading.RETIRED_PAGES_PENDING, 1).build(), at(0))),
                    "retired-pages", "RETIRED_PAGES_PENDING", HealthState.DEGRADED, false);
            assertEquals(List.of(), d.evaluate(GPU, healthy(0).set(Reading.RETIRED_PAGES_SBE, 6).set(Reading.RETIRED_PAGES_DBE, 4).build(), at(0)),
                    "10 is the limit, not over it");
            Finding f = only(d.evaluate(GPU, healthy(0).set(Reading.RETIRED_PAGES_SBE, 7).set(Reading.RETIRED_PAGES_DBE, 4).build(), at(0)));
            assertFinding(f, "retired-pages", "RETIRED_PAGES_LIMIT", HealthState.UNHEALTHY, false);
            assertTrue(f.message().startsWith("11 pages retired"), f.message());
        }
    }

    @Nested
    class Thermal {
        final ThermalDetector thermal = new ThermalDetector(5, 1, Duration.ofSeconds(30));

        @Test
        void withinTheMarginDegrades() {
            assertEquals(List.of(), thermal.evaluate(GPU, healthy(0).set(Reading.GPU_TEMP_C, 83).build(), at(0)));
            Finding f = only(thermal.evaluate(GPU, healthy(0).set(Reading.GPU_TEMP_C, 84).build(), at(0)));
            assertFinding(f, "thermal", "THERMAL_NEAR_SLOWDOWN", HealthState.DEGRADED, false);
            assertTrue(f.message().startsWith("84 C, within 5 C of the slowdown threshold (89 C)"), f.message());
        }

        @Test
        void atSlowdownDegradesThenUnhealthyAfterTheWindow() {
            assertEquals("THERMAL_SLOWDOWN", only(thermal.evaluate(GPU, healthy(0).set(Reading.GPU_TEMP_C, 89).build(), at(0))).code());
            assertEquals("THERMAL_SLOWDOWN", only(thermal.evaluate(GPU, healthy(0).set(Reading.GPU_TEMP_C, 90).build(), at(29))).code());
            assertFinding(only(thermal.evaluate(GPU, healthy(0).set(Reading.GPU_TEMP_C, 90).build(), at(30))), "thermal",
                    "THERMAL_SLOWDOWN_SUSTAINED", HealthState.UNHEALTHY, false);
            // Cooling below the threshold restarts the window.
            thermal.evaluate(GPU, healthy(0).set(Reading.GPU_TEMP_C, 70).build(), at(31));
            assertEquals("THERMAL_SLOWDOWN", only(thermal.evaluate(GPU, healthy(0).set(Reading.GPU_TEMP_C, 90).build(), at(40))).code());
        }

        @Test
        void nearShutdownIsUnhealthyAtOnce() {
            Finding f = only(thermal.evaluate(GPU, healthy(0).set(Reading.GPU_TEMP_C, 91).build(), at(0)));
            assertFinding(f, "thermal", "THERMAL_NEAR_SHUTDOWN", HealthState.UNHEALTHY, false);
            assertTrue(f.message().startsWith("91 C, within 1 C of the shutdown threshold (92 C)"), f.message());
        }

        @Test
        void hotMemoryDegradesThenUnhealthyAfterTheWindow() {
            GpuSample.Builder hot = healthy(0).set(Reading.MEMORY_TEMP_C, 95).set(Reading.MEM_MAX_OP_TEMP_C, 95);
            assertEquals(List.of(), thermal.evaluate(GPU, healthy(0).set(Reading.MEMORY_TEMP_C, 94)
                    .set(Reading.MEM_MAX_OP_TEMP_C, 95).build(), at(0)));
            Finding f = only(thermal.evaluate(GPU, hot.build(), at(1)));
            assertFinding(f, "thermal", "MEMORY_TEMP_HIGH", HealthState.DEGRADED, false);
            assertTrue(f.message().startsWith("memory at 95 C, at or above its maximum operating temperature (95 C)"), f.message());
            assertFinding(only(thermal.evaluate(GPU, hot.build(), at(31))), "thermal", "MEMORY_TEMP_SUSTAINED",
                    HealthState.UNHEALTHY, false);
            // A hot GPU and hot memory are two reasons, both reported.
            assertEquals(2, thermal.evaluate(GPU, hot.set(Reading.GPU_TEMP_C, 89).build(), at(32)).size());
        }

        @Test
        void withoutAThresholdThereIsNothingToJudge() {
            GpuSample noThreshold = healthy(0).set(Reading.GPU_TEMP_C, 120).set(Reading.SLOWDOWN_TEMP_C, Double.NaN)
                    .set(Reading.SHUTDOWN_TEMP_C, Double.NaN).build();
            assertEquals(List.of(), thermal.evaluate(GPU, noThreshold, at(0)));
            GpuSample onlyShutdown = healthy(0).set(Reading.GPU_TEMP_C, 120).set(Reading.SLOWDOWN_TEMP_C, Double.NaN).build();
            assertEquals("THERMAL_NEAR_SHUTDOWN", only(thermal.evaluate(GPU, onlyShutdown, at(0))).code());
        }
    }

    @Nested
    class Clocks {
        @Test
        void hardwareSlowdownHeldForTheWindowDegrades() {
            ClocksDetector d = new ClocksDetector(Duration.ofSeconds(30));
            GpuSample braking = healthy(0).set(Reading.CLOCK_EVENT_REASONS,
                    ClockEventReasons.HW_SLOWDOWN | ClockEventReasons.HW_POWER_BRAKE_SLOWDOWN).build();
            assertEquals(List.of(), d.evaluate(GPU, braking, at(0)));
            assertEquals(List.of(), d.evaluate(GPU, braking, at(29)));
            Finding f = only(d.evaluate(GPU, braking, at(30)));
            assertFinding(f, "clocks", "CLOCKS_THROTTLED", HealthState.DEGRADED, false);
            assertTrue(f.message().contains("hw_slowdown, hw_power_brake_slowdown for 30 s"), f.message());
            // A break restarts the window; a software power cap is not judged.
            assertEquals(List.of(), d.evaluate(GPU, healthy(0).set(Reading.CLOCK_EVENT_REASONS, ClockEventReasons.SW_POWER_CAP).build(), at(31)));
            assertEquals(List.of(), d.evaluate(GPU, braking, at(32)));
        }
    }

    @Nested
    class Pcie {
        final PcieDetector pcie = new PcieDetector(Duration.ofSeconds(60), 8);

        @Test
        void replaysOverTheRateDegradeUntilTheWindowPasses() {
            pcie.evaluate(GPU, healthy(0).set(Reading.PCIE_REPLAY_COUNTER, 100).build(), at(0));
            assertEquals(List.of(), pcie.evaluate(GPU, healthy(0).set(Reading.PCIE_REPLAY_COUNTER, 108).build(), at(30)));
            Finding f = only(pcie.evaluate(GPU, healthy(0).set(Reading.PCIE_REPLAY_COUNTER, 109).build(), at(40)));
            assertFinding(f, "pcie", "PCIE_REPLAY_RATE", HealthState.DEGRADED, false);
            assertTrue(f.message().startsWith("9 PCIe replays in the last 60 s"), f.message());
            assertEquals(List.of(), pcie.evaluate(GPU, healthy(0).set(Reading.PCIE_REPLAY_COUNTER, 109).build(), at(100)));
        }

        @Test
        void aNarrowLinkDegradesAndASlowLinkOnlyWhenBusy() {
            assertFinding(only(pcie.evaluate(GPU, healthy(0).set(Reading.PCIE_LINK_WIDTH, 8).build(), at(0))), "pcie",
                    "PCIE_LINK_DEGRADED", HealthState.DEGRADED, false);
            assertEquals(List.of(), pcie.evaluate(GPU, healthy(0).set(Reading.PCIE_LINK_GEN, 1).build(), at(0)),
                    "an idle GPU lowers its link speed");
            Finding f = only(pcie.evaluate(GPU, healthy(0).set(Reading.PCIE_LINK_GEN, 3).set(Reading.CLOCK_EVENT_REASONS, 0).build(), at(0)));
            assertEquals("PCIe link runs at gen 3 x16, capable of gen 5 x16", f.message());
        }
    }

    @Nested
    class NvLink {
        final NvLinkDetector nvlink = new NvLinkDetector(Duration.ofSeconds(60), 1, 100);

        @Test
        void aLinkThatWasUpAndIsDownIsUnhealthy() {
            nvlink.evaluate(GPU, healthy(0).build(), at(0));
            GpuSample down = healthy(0).nvLinks(List.of(new NvLinkInfo(0, true, 0, 0, 0, 0), new NvLinkInfo(1, false, -1, -1, -1, -1),
                    new NvLinkInfo(2, true, 0, 0, 0, 0), new NvLinkInfo(3, true, 0, 0, 0, 0))).build();
            Finding f = only(nvlink.evaluate(GPU, down, at(1)));
            assertFinding(f, "nvlink", "NVLINK_DOWN", HealthState.UNHEALTHY, false);
            assertTrue(f.message().contains("link [1] went down"), f.message());
            assertEquals(List.of(), nvlink.evaluate(GPU, healthy(0).build(), at(2)));
        }

        @Test
        void aLinkDownFromTheStartIsNotJudged() {
            GpuSample down = healthy(0).nvLinks(List.of(new NvLinkInfo(0, false, -1, -1, -1, -1))).build();
            assertEquals(List.of(), nvlink.evaluate(GPU, down, at(0)));
        }

        @Test
        void errorRatesOverTheThresholdsDegrade() {
            nvlink.evaluate(GPU, healthy(0).build(), at(0));
            Finding f = only(nvlink.evaluate(GPU, healthy(0).set(Reading.NVLINK_REPLAY_ERRORS, 1).set(Reading.NVLINK_RECOVERY_ERRORS, 1).build(), at(5)));
            assertFinding(f, "nvlink", "NVLINK_ERROR_RATE", HealthState.DEGRADED, false);
            // 100 per second over 60 s: 6000 CRC errors are within the limit, 6001 are not.
            NvLinkDetector crc = new NvLinkDetector(Duration.ofSeconds(60), 1, 100);
            crc.evaluate(GPU, healthy(0).build(), at(0));
            assertEquals(List.of(), crc.evaluate(GPU, healthy(0).set(Reading.NVLINK_CRC_FLIT_ERRORS, 6000).build(), at(5)));
            assertEquals("NVLINK_CRC_RATE", only(crc.evaluate(GPU, healthy(0).set(Reading.NVLINK_CRC_FLIT_ERRORS, 6000)
                    .set(Reading.NVLINK_CRC_DATA_ERRORS, 1).build(), at(6))).code());
        }
    }

    @Nested
    class Lost {
        @Test
        void lostIsLostAndStaleIsDegraded() {
            LostDetector d = new LostDetector();
            assertFalse(d.needsFreshReadings());
            Finding f = only(d.evaluate(GPU, healthy(0).status(GpuStatus.LOST, "nvmlDeviceGetTemperatureV: GPU_IS_LOST").build(), at(0)));
            assertFinding(f, "lost", "GPU_IS_LOST", HealthState.LOST, false);
            assertTrue(f.message().contains("GPU_IS_LOST"));
            assertFinding(only(d.evaluate(GPU, healthy(0).status(GpuStatus.STALE, "read still running").build(), at(0))), "lost",
                    "READINGS_STALE", HealthState.DEGRADED, false);
            assertFinding(only(d.onEvent(GPU, event(EventTypes.GPU_UNAVAILABLE_ERROR, 0), at(0))), "lost", "GPU_UNAVAILABLE",
                    HealthState.LOST, false);
        }
    }

    @Nested
    class Driver {
        @Test
        void resetAndRebootHintsAreStickyUnhealthyMilderOnesDegrade() {
            DriverDetector d = new DriverDetector();
            Finding reset = only(d.evaluate(GPU, healthy(0).set(Reading.RECOVERY_ACTION, 1).build(), at(0)));
            assertFinding(reset, "driver", "DRIVER_GPU_RESET", HealthState.UNHEALTHY, true);
            assertEquals(List.of(RepairAction.RESET_GPU), reset.actions());
            assertEquals(List.of(RepairAction.REBOOT), only(d.evaluate(GPU, healthy(0).set(Reading.RECOVERY_ACTION, 2).build(), at(0))).actions());
            assertFinding(only(d.evaluate(GPU, healthy(0).set(Reading.RECOVERY_ACTION, 3).build(), at(0))), "driver",
                    "DRIVER_DRAIN_P2P", HealthState.DEGRADED, false);
            assertEquals("DRIVER_DRAIN_AND_RESET", only(d.onEvent(GPU, event(EventTypes.GPU_RECOVERY_ACTION, 4), at(0))).code());
            assertEquals(List.of(), d.evaluate(GPU, healthy(0).set(Reading.RECOVERY_ACTION, Double.NaN).build(), at(0)),
                    "drivers before 565 have no hint");
        }
    }

    @Nested
    class Rates {
        @Test
        void increaseOverTheWindowSurvivesResetsAndKeepsOnlyChanges() {
            RateWindow w = new RateWindow(Duration.ofSeconds(10));
            assertEquals(0, w.add(at(0), 5));
            assertEquals(3, w.add(at(1), 8));
            assertEquals(3, w.add(at(10), 8));
            assertEquals(0, w.add(at(11), 8), "the increase at 1 s left the window");
            assertEquals(0, w.add(at(12), 2), "a counter that went down restarted");
            assertEquals(4, w.add(at(13), 6));
        }
    }
}
