package io.gpuagent.agent.health.detect;

import static io.gpuagent.agent.health.detect.DetectorsTest.GPU;
import static io.gpuagent.agent.health.detect.DetectorsTest.assertFinding;
import static io.gpuagent.agent.health.detect.DetectorsTest.at;
import static io.gpuagent.agent.health.detect.DetectorsTest.only;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.exporter.DcgmIncident;
import io.gpuagent.exporter.DcgmPart;
import io.gpuagent.exporter.DcgmViolation;
import io.gpuagent.exporter.GpuInfo;
import io.gpuagent.exporter.GpuSample;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class DcgmDetectorTest {
    private final DcgmDetector d = new DcgmDetector();

    private static GpuSample with(List<DcgmIncident> incidents, List<DcgmViolation> violations) {
        return GpuSample.builder(new GpuInfo(0, GPU, "NVIDIA A100", "00000000:18:00.0", 0, "", "", null))
                .dcgm(new DcgmPart(Set.of(), Map.of(), incidents, violations, true)).build();
    }

    @Test
    void noIncidentNoViolationNoFinding() {
        assertEquals(List.of(), d.evaluate(GPU, with(List.of(), List.of()), at(0)));
    }

    @Test
    void aFailingHealthWatchIsUnhealthyWithItsDcgmFrNameAndAWarningIsDegraded() {
        Finding fail = only(d.evaluate(GPU, with(List.of(new DcgmIncident("MEM", true, 4, "DBE")), List.of()), at(0)));
        assertFinding(fail, "dcgm", "DCGM_FR_VOLATILE_DBE_DETECTED", HealthState.UNHEALTHY, false);
        assertEquals(List.of(RepairAction.DRAIN_AND_RESET), fail.actions());
        assertTrue(fail.message().contains("MEM") && fail.message().contains("DBE"), fail.message());

        Finding warn = only(d.evaluate(GPU, with(List.of(new DcgmIncident("PCIE", false, 3, "replays")), List.of()),
                at(0)));
        assertFinding(warn, "dcgm", "DCGM_FR_PCI_REPLAY_RATE", HealthState.DEGRADED, false);
        assertEquals(List.of(RepairAction.INSPECT_HARDWARE), warn.actions());
        assertEquals("DCGM_FR_9999", DcgmDetector.errorName(9999), "a code newer than the header keeps its number");
    }

    @Test
    void memoryViolationsAreStickyAndUnhealthyTheOthersDegrade() {
        Finding dbe = only(d.evaluate(GPU, with(List.of(), List.of(new DcgmViolation("DBE", 1, Instant.EPOCH))), at(0)));
        assertFinding(dbe, "dcgm", "DCGM_POLICY_DBE", HealthState.UNHEALTHY, true);
        Finding xid = only(d.evaluate(GPU, with(List.of(), List.of(new DcgmViolation("XID", 79, Instant.EPOCH))), at(0)));
        assertFinding(xid, "dcgm", "DCGM_POLICY_XID", HealthState.DEGRADED, false);
        Finding thermal = only(d.evaluate(GPU, with(List.of(), List.of(new DcgmViolation("THERMAL", 95, Instant.EPOCH))),
                at(0)));
        assertFinding(thermal, "dcgm", "DCGM_POLICY_THERMAL", HealthState.DEGRADED, false);
    }
}
