package io.gpuagent.agent.sampler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.exporter.GpuInfo;
import io.gpuagent.exporter.GpuMetricsWriter;
import io.gpuagent.exporter.GpuSample;
import io.gpuagent.exporter.MetricCatalog;
import io.gpuagent.exporter.Snapshot;
import io.gpuagent.nvml.PciInfo;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/** The XID ledger behind DCGM_FI_DEV_XID_ERRORS and DCGM_EXP_XID_ERRORS_TOTAL, rendered by the real writer. */
class XidLedgerTest {
    static final Instant T = Instant.parse("2025-01-01T00:00:00Z");

    static GpuInfo gpu(int i) {
        return new GpuInfo(i, "GPU-" + i, "NVIDIA H100 80GB HBM3", "00000000:1" + i + ":00.0", i, "SN" + i, "96.00",
                new PciInfo("0000:1" + i + ":00.0", 0, 0x10 + i, 0, 0, 0, "00000000:1" + i + ":00.0"));
    }

    @Test
    void countsEveryXidPerGpuAndCodeAndKeepsTheCountsWhenTheLastXidIsForgotten() {
        XidLedger ledger = new XidLedger();
        long v0 = ledger.version();
        ledger.record("GPU-0", 79);
        ledger.record("GPU-0", 13);
        ledger.record("GPU-0", 79);
        ledger.record("GPU-1", 48);
        ledger.record("GPU-1", 0);   // not an XID: no count, but the last value
        assertNotEquals(v0, ledger.version());
        assertEquals(Map.of(13, 1L, 79, 2L), ledger.xidCounts(gpu(0)));
        assertEquals(List.of(13, 79), List.copyOf(ledger.xidCounts(gpu(0)).keySet()), "ascending by XID");
        assertEquals(Map.of(48, 1L), ledger.xidCounts(gpu(1)));
        assertEquals(OptionalInt.of(0), ledger.lastXid(gpu(1)));
        assertTrue(ledger.xidCounts(gpu(2)).isEmpty());
        assertThrows(UnsupportedOperationException.class, () -> ledger.xidCounts(gpu(0)).put(1, 1L),
                "the writer iterates what it gets: never a live map");

        long v1 = ledger.version();
        ledger.forget("GPU-0");
        assertNotEquals(v1, ledger.version());
        assertEquals(OptionalInt.empty(), ledger.lastXid(gpu(0)));
        assertEquals(Map.of(13, 1L, 79, 2L), ledger.xidCounts(gpu(0)), "a counter only resets with the agent");
    }

    @Test
    void distinctXidsPerGpuAreBounded() {
        XidLedger ledger = new XidLedger();
        for (int xid = 1; xid <= XidLedger.MAX_XIDS_PER_GPU + 10; xid++) {
            ledger.record("GPU-0", xid);
        }
        ledger.record("GPU-0", 1);
        assertEquals(XidLedger.MAX_XIDS_PER_GPU, ledger.xidCounts(gpu(0)).size());
        assertEquals(2L, ledger.xidCounts(gpu(0)).get(1), "codes already counted go on counting");
        assertEquals(OptionalInt.of(1), ledger.lastXid(gpu(0)));
    }

    @Test
    void theWriterServesTheCountsAsDcgmExporterDoes() {
        XidLedger ledger = new XidLedger();
        GpuMetricsWriter writer = new GpuMetricsWriter(
                List.of(MetricCatalog.byName("DCGM_EXP_XID_ERRORS_TOTAL").orElseThrow(),
                        MetricCatalog.byName("DCGM_FI_DEV_XID_ERRORS").orElseThrow()), "Hostname", "n", ledger);
        Snapshot s = new Snapshot(1, T, true, null, "550.54.15", 1, List.of(GpuSample.builder(gpu(0)).readAt(T).build()));
        String labels = "{gpu=\"0\",UUID=\"GPU-0\",pci_bus_id=\"00000000:10:00.0\",device=\"nvidia0\","
                + "modelName=\"NVIDIA H100 80GB HBM3\",Hostname=\"n\",DCGM_FI_DRIVER_VERSION=\"550.54.15\"";
        assertEquals("""
                # HELP DCGM_FI_DEV_XID_ERRORS Value of the last XID error encountered.
                # TYPE DCGM_FI_DEV_XID_ERRORS gauge
                DCGM_FI_DEV_XID_ERRORS%1$s,err_code="0"} 0
                """.formatted(labels), writer.renderText(s), "no XID yet: no DCGM_EXP_XID_ERRORS_TOTAL series");
        ledger.record("GPU-0", 79);
        ledger.record("GPU-0", 31);
        ledger.record("GPU-0", 79);
        assertEquals("""
                # HELP DCGM_EXP_XID_ERRORS_TOTAL Total XID errors observed since exporter start.
                # TYPE DCGM_EXP_XID_ERRORS_TOTAL counter
                DCGM_EXP_XID_ERRORS_TOTAL%1$s,xid="31"} 1
                DCGM_EXP_XID_ERRORS_TOTAL%1$s,xid="79"} 2
                # HELP DCGM_FI_DEV_XID_ERRORS Value of the last XID error encountered.
                # TYPE DCGM_FI_DEV_XID_ERRORS gauge
                DCGM_FI_DEV_XID_ERRORS%1$s,err_code="79"} 79
                """.formatted(labels), writer.renderText(s));
    }
}
