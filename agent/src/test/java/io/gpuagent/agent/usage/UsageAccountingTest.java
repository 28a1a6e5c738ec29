package io.gpuagent.agent.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.exporter.GpuInfo;
import io.gpuagent.exporter.GpuSample;
import io.gpuagent.exporter.GpuStatus;
import io.gpuagent.exporter.Reading;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The energy arithmetic across counter restarts and restarts of the agent, and the cost formula to the cent. */
class UsageAccountingTest {

    private static final GpuInfo GPU = new GpuInfo(0, "GPU-0", "NVIDIA H100 80GB HBM3", "", 0, "", "", null);
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    private static final Prices FREE = new Prices("EUR", BigDecimal.ZERO, Map.of());

    private static GpuSample sample(long seconds, double counterMj, double powerW, double util) {
        GpuSample.Builder b = GpuSample.builder(GPU).status(GpuStatus.OK, null).readAt(T0.plusSeconds(seconds))
                .set(Reading.POWER_USAGE_W, powerW).set(Reading.GPU_UTIL_PCT, util).set(Reading.FB_USED_MIB, 1000 + seconds);
        if (!Double.isNaN(counterMj)) {
            b.set(Reading.TOTAL_ENERGY_MJ, counterMj);
        }
        return b.build();
    }

    private static DeviceMeter meter(Prices prices) {
        return DeviceMeter.start("GPU-0", "GPU-0", 0, GPU.name(), null, 1.0, T0, prices);
    }

    @Test
    void energyIsExactToTheMillijouleAcrossACounterReset() {
        DeviceMeter m = meter(FREE);
        m.baseline(sample(0, 1_000_123, 100, 50));
        m.observe(sample(1, 1_250_456, 250, 50), null, 5, false);
        assertTrue(m.observe(sample(2, 789, 120, 50), null, 5, false), "a lower reading is a counter restart");
        m.observe(sample(3, 100_789, 100, 50), null, 5, false);
        m.observe(sample(3, 999_999_999, 100, 50), null, 5, false);   // not newer: a stale repeat, skipped
        GpuUsage u = m.snapshot();
        assertEquals((1_250_456 - 1_000_123) + 789 + (100_789 - 789), u.gpuEnergyMj());
        assertEquals(1, u.counterResets());
        assertFalse(u.integrated());
        assertEquals(250.0, u.peakPowerW());
        assertEquals(1003L, u.memoryHighMib());
    }

    @Test
    void aCheckpointResumedAfterTheAgentWasDownCountsTheCounterDeltaExactly() {
        DeviceMeter m = meter(FREE);
        m.baseline(sample(0, 5_000, 100, 1));
        m.observe(sample(10, 6_000, 100, 1), null, 5, false);
        GpuUsage checkpoint = m.snapshot();
        // the agent is killed; 100 s later it resumes from the checkpoint
        DeviceMeter resumed = DeviceMeter.resume(checkpoint);
        resumed.observe(sample(110, 16_000, 100, 1), null, 5, true);
        resumed.observe(sample(111, 16_100, 100, 1), null, 5, false);
        GpuUsage u = resumed.snapshot();
        assertEquals(11_100, u.gpuEnergyMj());
        assertEquals(11.0, u.idleSeconds(), 1e-9, "idle time counts only observed time: 10 s + 1 s, not the gap");
    }

    @Test
    void withoutACounterPowerIsIntegratedAndFlagged() {
        DeviceMeter m = meter(FREE);
        m.baseline(sample(0, Double.NaN, 200, 90));
        m.observe(sample(2, Double.NaN, 300, 90), null, 5, false);
        GpuUsage u = m.snapshot();
        assertEquals(600_000, u.gpuEnergyMj());
        assertTrue(u.integrated());
        LeaseUsage lease = new LeaseUsage("l", "j", "n", T0, T0.plusSeconds(2), T0.plusSeconds(2), "EUR", List.of(u), List.of());
        UsageReport r = UsageReport.of(lease, T0.plusSeconds(2));
        assertTrue(r.estimated());
        assertEquals(new BigDecimal("600.000"), r.energyJoules());
        assertEquals(300.0, r.gpus().getFirst().averagePowerW());
    }

    @Test
    void costIsEnergyTimesPricePlusGpuHoursTimesRateToTheCent() {
        // 1.5 kWh at 0.3012/kWh = 0.4518 -> 0.45; 2 h 30 min at 2.175/h = 5.4375 -> 5.44; total 5.89
        Prices prices = new Prices("EUR", new BigDecimal("0.3012"), Map.of("NVIDIA H100 80GB HBM3", new BigDecimal("2.175")));
        DeviceMeter m = meter(prices);
        m.baseline(sample(0, 0, 100, 50));
        m.observe(sample(60, 5_400_000_000L, 100, 50), null, 5, false);
        LeaseUsage lease = new LeaseUsage("l", "j", "n", T0, T0.plusSeconds(9000), T0.plusSeconds(9000), "EUR",
                List.of(m.snapshot()), List.of());
        UsageReport r = UsageReport.of(lease, T0.plusSeconds(9000));
        assertEquals(new BigDecimal("5400000.000"), r.energyJoules());
        assertEquals(new BigDecimal("9000.000"), r.gpuSeconds());
        assertEquals(new UsageReport.Cost("EUR", new BigDecimal("0.45"), new BigDecimal("5.44"), new BigDecimal("5.89")),
                r.cost());
        assertFalse(r.estimated());
    }

    @Test
    void aPriceChangeAppliesFromThatMomentNotBefore() {
        Prices cheap = new Prices("EUR", new BigDecimal("0.10"), Map.of("default", new BigDecimal("1.00")));
        Prices dear = new Prices("EUR", new BigDecimal("0.50"), Map.of("default", new BigDecimal("3.00")));
        DeviceMeter m = meter(cheap);
        m.baseline(sample(0, 0, 100, 50));
        m.observe(sample(3600, 3_600_000_000L, 100, 50), null, 5, false);    // 1 kWh in the first hour
        m.reprice(dear, T0.plusSeconds(3600));
        m.observe(sample(7200, 10_800_000_000L, 100, 50), null, 5, false);   // 2 kWh in the second
        LeaseUsage lease = new LeaseUsage("l", "j", "n", T0, T0.plusSeconds(7200), T0.plusSeconds(7200), "EUR",
                List.of(m.snapshot()), List.of());
        UsageReport r = UsageReport.of(lease, T0.plusSeconds(7200));
        // energy 1 x 0.10 + 2 x 0.50 = 1.10; time 1 h x 1.00 + 1 h x 3.00 = 4.00
        assertEquals(new UsageReport.Cost("EUR", new BigDecimal("1.10"), new BigDecimal("4.00"), new BigDecimal("5.10")),
                r.cost());
        assertEquals(2, r.gpus().getFirst().periods().size());
    }

    @Test
    void aPricesFileIsReadAndAMisspeltKeyIsRefused(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path file = dir.resolve("prices.properties");
        java.nio.file.Files.writeString(file, "currency = EUR\nenergy-price = 0.3012\n"
                + "gpu-hour.\"NVIDIA\\ H100\\ 80GB\\ HBM3\" = 2.175\ngpu-hour.default = 1.5\n");
        Prices p = Prices.read(file);
        assertEquals(new BigDecimal("0.3012"), p.energyPerKwh());
        assertEquals(new BigDecimal("2.175"), p.gpuHourRate("NVIDIA H100 80GB HBM3"));
        assertEquals(new BigDecimal("1.5"), p.gpuHourRate("NVIDIA A100-SXM4-80GB"));
        java.nio.file.Files.writeString(file, "energy-prize = 0.30\n");
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> Prices.read(file));
        assertTrue(e.getMessage().contains("unknown key 'energy-prize'"), e.getMessage());
        java.nio.file.Files.writeString(file, "energy-price = -1\n");
        assertTrue(org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> Prices.read(file))
                .getMessage().contains(">= 0"));
    }

    @Test
    void aMigDeviceIsChargedItsSlicesShareAndFlaggedEstimated() {
        DeviceMeter m = DeviceMeter.start("MIG-1", "GPU-0", 0, GPU.name(), "3g.40gb", DeviceMeter.migShare(3, 1), T0,
                new Prices("EUR", new BigDecimal("1"), Map.of("default", new BigDecimal("7"))));
        m.baseline(sample(0, 0, 100, 50));
        m.observe(sample(3600, 7_000_000, 100, 50), null, 5, false);
        LeaseUsage lease = new LeaseUsage("l", "j", "n", T0, T0.plusSeconds(3600), T0.plusSeconds(3600), "EUR",
                List.of(m.snapshot()), List.of());
        UsageReport r = UsageReport.of(lease, T0.plusSeconds(3600));
        assertEquals(new BigDecimal("3000.000"), r.energyJoules());
        assertEquals(new BigDecimal("3.00"), r.cost().gpuTime(), "3/7 of an hour at 7 per GPU-hour");
        assertTrue(r.estimated());
        assertEquals(null, r.gpus().getFirst().idleSeconds(), "no per-instance utilisation");
    }
}
