package io.gpuagent.agent.kubernetes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Taint;
import io.gpuagent.agent.health.GpuHealth;
import io.gpuagent.agent.health.MigHealth;
import io.gpuagent.agent.health.Reason;
import io.gpuagent.agent.health.detect.HealthState;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The agent's taint and verdict rules, without an API server: whose taint is whose, and the bounded message. */
class TaintsTest {

    private static final Taint OTHERS = new Taint("NoSchedule", "example.com/x", null, "y");

    @Test
    void aTaintWithOurKeyAndEffectButNoOwnershipAnnotationIsNeitherChangedNorRemoved() {
        Node n = node(Map.of(), List.of(OTHERS, new Taint("NoSchedule", Taints.KEY, null, "by-hand")));
        assertEquals(Optional.empty(), Taints.patch(n, "NoSchedule", Optional.of("LOST")));
        assertEquals(Optional.empty(), Taints.patch(n, "NoSchedule", Optional.empty()));
    }

    @Test
    void ourTaintIsAddedWithItsAnnotationAndRemovedWithItAndOthersStay() {
        Node clean = node(null, List.of(OTHERS, new Taint("NoExecute", Taints.KEY, null, "admin")));
        List<Map<String, Object>> add = Taints.patch(clean, "NoSchedule", Optional.of("UNHEALTHY")).orElseThrow().ops();
        assertEquals(Map.of("op", "test", "path", "/metadata/resourceVersion", "value", "7"), add.get(0));
        assertEquals(Map.of(Taints.OWNED, "NoSchedule"), add.get(1).get("value"), "annotations created with ours");
        assertEquals(List.of(OTHERS, new Taint("NoExecute", Taints.KEY, null, "admin"),
                new Taint("NoSchedule", Taints.KEY, null, "UNHEALTHY")), add.get(2).get("value"));

        Node tainted = node(Map.of(Taints.OWNED, "NoSchedule", "other", "a"),
                List.of(OTHERS, new Taint("NoSchedule", Taints.KEY, null, "UNHEALTHY")));
        assertEquals(Optional.empty(), Taints.patch(tainted, "NoSchedule", Optional.of("UNHEALTHY")), "says so already");
        List<Map<String, Object>> remove = Taints.patch(tainted, "NoSchedule", Optional.empty()).orElseThrow().ops();
        assertEquals(Map.of("op", "remove", "path", "/metadata/annotations/gpu-agent.io~1taint"), remove.get(1));
        assertEquals(List.of(OTHERS), remove.get(2).get("value"));
    }

    @Test
    void theVerdictNamesEveryBadGpuWithinTheBoundAndTaintsWithTheWorstState() {
        List<GpuHealth> gpus = new ArrayList<>();
        Instant t = Instant.parse("2026-01-01T00:00:00Z");
        for (int i = 0; i < 64; i++) {
            HealthState s = i == 5 ? HealthState.LOST : HealthState.UNHEALTHY;
            gpus.add(new GpuHealth(i, "GPU-" + i, "H100", s, t,
                    List.of(Reason.of("xid", "XID_48", s, "double-bit ECC error ".repeat(3), "reset", t))));
        }
        GpuVerdict v = GpuVerdict.of(gpus, Set.of(HealthState.UNHEALTHY, HealthState.LOST));
        assertEquals("False", v.status());
        assertEquals("GpuLost", v.reason());
        assertEquals(Optional.of("LOST"), v.taint());
        assertTrue(v.message().length() <= Text.MESSAGE_MAX, "bounded: " + v.message().length());
        assertTrue(v.message().startsWith("GPU 0 GPU-0 UNHEALTHY: XID_48 (double-bit"), v.message());

        GpuVerdict healthy = GpuVerdict.of(List.of(new GpuHealth(0, "GPU-0", "H100", HealthState.HEALTHY, t, List.of())),
                Set.of(HealthState.UNHEALTHY, HealthState.LOST));
        assertEquals(new GpuVerdict("True", "GpusHealthy", "1 GPU serving", Optional.empty()), healthy);
        assertEquals("Unknown", GpuVerdict.of(List.of(), Set.of(HealthState.LOST)).status());
    }

    @Test
    void aMigDeviceOfItsOwnTaintsAndIsNamedWhileItsGpuServes() {
        Instant t = Instant.parse("2026-01-01T00:00:00Z");
        Reason xid = Reason.of("xid", "XID_94", HealthState.UNHEALTHY, "contained ECC error", "restart the app", t);
        MigHealth bad = new MigHealth("MIG-a", "0/1/0", 0, "GPU-0", 1, 0, "1g.10gb", HealthState.UNHEALTHY, t,
                List.of(xid), List.of(), List.of());
        MigHealth fine = new MigHealth("MIG-b", "0/2/0", 0, "GPU-0", 2, 0, "1g.10gb", HealthState.HEALTHY, t,
                List.of(), List.of(), List.of());
        GpuHealth gpu = new GpuHealth(0, "GPU-0", "H100", HealthState.HEALTHY, t, List.of(), List.of(), List.of(bad, fine));
        GpuVerdict v = GpuVerdict.of(List.of(gpu), Set.of(HealthState.UNHEALTHY, HealthState.LOST));
        assertEquals("False", v.status());
        assertEquals(Optional.of("UNHEALTHY"), v.taint());
        assertEquals("MIG 0/1/0 MIG-a UNHEALTHY: XID_94 (contained ECC error)", v.message());
    }

    private static Node node(Map<String, String> annotations, List<Taint> taints) {
        return new NodeBuilder().withNewMetadata().withName("n").withResourceVersion("7").withAnnotations(annotations)
                .endMetadata().withNewSpec().withTaints(taints).endSpec().build();
    }
}
