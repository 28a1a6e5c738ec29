package io.gpuagent.agent.kubelet;

import static io.gpuagent.agent.kubelet.FakeKubelet.claim;
import static io.gpuagent.agent.kubelet.FakeKubelet.container;
import static io.gpuagent.agent.kubelet.FakeKubelet.pod;
import static io.gpuagent.agent.kubelet.FakeKubelet.pods;
import static io.gpuagent.agent.kubelet.TestNode.GPU0;
import static io.gpuagent.agent.kubelet.TestNode.GPU1;
import static io.gpuagent.agent.kubelet.TestNode.GPU2;
import static io.gpuagent.agent.kubelet.TestNode.MIG_GI2_CI0;
import static io.gpuagent.agent.kubelet.TestNode.MIG_GI2_CI1;
import static io.gpuagent.agent.kubelet.TestNode.MIG_GI7;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.agent.kubelet.podresources.ListPodResourcesResponse;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PodMappingTest {

    private static final List<String> NVIDIA = List.of("nvidia.com/gpu", "nvidia.com/mig-*");

    private static PodMapping.Result map(GpuIdType type, ListPodResourcesResponse answer) {
        return new PodMapping(NVIDIA, type).map(answer, TestNode.snapshot());
    }

    private static PodRef ref(String namespace, String pod, String container) {
        return new PodRef(namespace, pod, container, "");
    }

    @Test
    void wholeGpusByUuidGoToTheirContainers() {
        var result = map(GpuIdType.UID, pods(
                pod("ml", "train-0", container("trainer", "nvidia.com/gpu", GPU0, GPU1)),
                pod("ml", "cpu-only", container("main", "cpu", "0"))));
        assertEquals(Map.of(GPU0, List.of(ref("ml", "train-0", "trainer")), GPU1, List.of(ref("ml", "train-0", "trainer"))),
                result.map().byDevice());
        assertEquals(0, result.unresolved());
    }

    @Test
    void migUuidsAreTakenVerbatimUnderAnyMigResource() {
        var result = map(GpuIdType.UID, pods(
                pod("ml", "small", container("c", "nvidia.com/mig-1g.10gb", MIG_GI7)),
                pod("ml", "big", container("c", "nvidia.com/mig-3g.40gb", MIG_GI2_CI1))));
        assertEquals(List.of(ref("ml", "small", "c")), result.map().pods(MIG_GI7));
        assertEquals(List.of(ref("ml", "big", "c")), result.map().pods(MIG_GI2_CI1));
        assertEquals(Set.of(MIG_GI7, MIG_GI2_CI1), result.map().devices());
    }

    @Test
    void timeSlicingReplicasAreTheirGpuAndEveryHolderIsListedOnce() {
        var result = map(GpuIdType.UID, pods(
                pod("a", "one", container("c", "nvidia.com/gpu", GPU1 + "::0", GPU1 + "::3")),
                pod("b", "two", container("c", "nvidia.com/gpu", GPU1 + "::1"))));
        assertEquals(List.of(ref("a", "one", "c"), ref("b", "two", "c")), result.map().pods(GPU1));
        assertEquals(Set.of(GPU1), result.map().devices());
    }

    @Test
    void otherResourcesAndForeignIdsAreNotGpus() {
        var result = map(GpuIdType.UID, pods(
                pod("a", "nic", container("c", "example.com/nic", GPU0)),
                pod("a", "gone", container("c", "nvidia.com/gpu", "GPU-99999999-9999-4999-8999-999999999999")),
                pod("a", "gke", container("c", "nvidia.com/gpu", "nvidia0"))));
        assertTrue(result.map().isEmpty(), result.map().toString());
        assertEquals(2, result.unresolved(), "the unknown UUID and the GKE id in uid mode");
    }

    @Test
    void gkeIdsResolveByMinorNumberAndGpuInstanceInDeviceNameMode() {
        var result = map(GpuIdType.DEVICE_NAME, pods(
                pod("g", "whole", container("c", "nvidia.com/gpu", "nvidia1")),
                pod("g", "shared", container("c", "nvidia.com/gpu", "nvidia0/vgpu3")),
                pod("g", "mig", container("c", "nvidia.com/gpu", "nvidia5/gi2")),
                pod("g", "mig-shared", container("c", "nvidia.com/gpu", "nvidia5/gi7/vgpu0")),
                pod("g", "uuid", container("c", "nvidia.com/gpu", GPU2)),
                pod("g", "index-not-minor", container("c", "nvidia.com/gpu", "nvidia2"))));
        PodMap map = result.map();
        assertEquals(List.of(ref("g", "whole", "c")), map.pods(GPU1));
        assertEquals(List.of(ref("g", "shared", "c")), map.pods(GPU0));
        assertEquals(List.of(ref("g", "mig", "c")), map.pods(MIG_GI2_CI0), "GPU instance 2's first compute instance");
        assertEquals(List.of(ref("g", "mig", "c")), map.pods(MIG_GI2_CI1), "and its second");
        assertEquals(List.of(ref("g", "mig-shared", "c")), map.pods(MIG_GI7));
        assertFalse(map.devices().contains(GPU2), "a UUID is not read in device-name mode, nor nvidia2 (GPU 2 is minor 5)");
        assertEquals(2, result.unresolved());
    }

    @Test
    void draClaimsOfTheNvidiaDriverResolveInEitherMode() {
        for (GpuIdType type : GpuIdType.values()) {
            var result = map(type, pods(
                    pod("d", "by-name", claim("c", PodMapping.DRA_DRIVER, "gpu-1")),
                    pod("d", "by-uuid", claim("c", PodMapping.DRA_DRIVER, GPU0)),
                    pod("d", "mig", claim("c", PodMapping.DRA_DRIVER, "gpu-5-mig-19-0-1")),
                    pod("d", "cdi", claim("c", PodMapping.DRA_DRIVER, "opaque-7",
                            "k8s.gpu.nvidia.com/device=" + MIG_GI2_CI0)),
                    pod("d", "other-driver", claim("c", "dra.example.com", "gpu-0"))));
            PodMap map = result.map();
            assertEquals(List.of(ref("d", "by-name", "c")), map.pods(GPU1), type.name());
            assertEquals(List.of(ref("d", "by-uuid", "c")), map.pods(GPU0), type.name());
            assertEquals(List.of(ref("d", "mig", "c")), map.pods(MIG_GI7), type.name());
            assertEquals(List.of(ref("d", "cdi", "c")), map.pods(MIG_GI2_CI0), type.name());
            assertEquals(4, map.devices().size(), type.name());
        }
    }

    @Test
    void namesNoKubeletGivesAreNotLabels() {
        var result = map(GpuIdType.UID, pods(
                pod("ml", "p".repeat(254), container("c", "nvidia.com/gpu", GPU0)),
                pod("", "nameless-namespace", container("c", "nvidia.com/gpu", GPU1)),
                pod("ml", "ok", container("c".repeat(64), "nvidia.com/gpu", GPU2))));
        assertTrue(result.map().isEmpty(), result.map().toString());
        assertEquals(3, result.unresolved());
    }

    @Test
    void anEmptyAnswerIsAnEmptyMap() {
        assertTrue(map(GpuIdType.UID, ListPodResourcesResponse.getDefaultInstance()).map().isEmpty());
    }

    @Test
    void resourceNamePatternsAreExactOrPrefixes() {
        PodMapping mapping = new PodMapping(List.of("nvidia.com/gpu", "nvidia.com/mig-*"), GpuIdType.UID);
        assertTrue(mapping.isGpuResource("nvidia.com/gpu"));
        assertTrue(mapping.isGpuResource("nvidia.com/mig-1g.10gb"));
        assertFalse(mapping.isGpuResource("nvidia.com/gpu.shared"));
        assertThrows(IllegalArgumentException.class, () -> new PodMapping(List.of("nvidia.com/*gpu"), GpuIdType.UID));
    }
}
