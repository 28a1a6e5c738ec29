package io.gpuagent.agent.sampler;

import static io.gpuagent.agent.kubelet.FakeKubelet.allocatable;
import static io.gpuagent.agent.kubelet.FakeKubelet.container;
import static io.gpuagent.agent.kubelet.FakeKubelet.pod;
import static io.gpuagent.agent.kubelet.FakeKubelet.pods;
import static io.gpuagent.agent.kubelet.TestNode.GPU0;
import static io.gpuagent.agent.kubelet.TestNode.GPU1;
import static io.gpuagent.agent.kubelet.TestNode.MIG_GI7;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.agent.kubelet.FakeKubelet;
import io.gpuagent.agent.kubelet.GpuIdType;
import io.gpuagent.agent.kubelet.GrpcPodResources;
import io.gpuagent.agent.kubelet.KubeletFailure.Reason;
import io.gpuagent.agent.kubelet.PodMap;
import io.gpuagent.agent.kubelet.PodMapping;
import io.gpuagent.agent.kubelet.PodRef;
import io.gpuagent.agent.kubelet.TestNode;
import io.gpuagent.exporter.GpuInfo;
import io.gpuagent.exporter.MigInstance;
import io.gpuagent.exporter.Snapshot;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The refresher and the gRPC client against a real gRPC server on a unix socket (the fake kubelet). */
class PodRefresherTest {

    private static final int MAX_ANSWER = 4 << 20;

    @TempDir
    Path dir;

    FakeKubelet kubelet;
    GrpcPodResources client;
    PodAttribution attribution;
    SimpleMeterRegistry meters;
    PodRefresher refresher;

    @BeforeEach
    void kubelet() {
        kubelet = new FakeKubelet(dir.resolve("pod-resources/kubelet.sock"));
        attribution = new PodAttribution();
        refresher = refresher(GpuIdType.UID, Duration.ofMillis(500));
    }

    /** A refresher (and client, and meters) reading ids as {@code type}, with call deadline {@code deadline}. */
    private PodRefresher refresher(GpuIdType type, Duration deadline) {
        client = new GrpcPodResources(kubelet.socket(), deadline, MAX_ANSWER);
        meters = new SimpleMeterRegistry();
        Snapshot node = TestNode.snapshot();
        return new PodRefresher(client, new PodMapping(List.of("nvidia.com/gpu", "nvidia.com/mig-*"), type),
                () -> node, attribution, meters, Clock.systemUTC(), Duration.ofSeconds(1));
    }

    @AfterEach
    void stop() {
        refresher.close();
        kubelet.close();
    }

    private static PodRef ref(String namespace, String pod, String container) {
        return new PodRef(namespace, pod, container, "");
    }

    private double failures(Reason reason) {
        return meters.get("gpu_agent.kubelet.refresh.failures").tag("reason", reason.label()).counter().count();
    }

    private void firstGoodAnswer() {
        kubelet.start().answer(pods(pod("ml", "train", container("main", "nvidia.com/gpu", GPU0)),
                pod("ml", "small", container("side", "nvidia.com/mig-1g.10gb", MIG_GI7))));
        assertInstanceOf(PodRefresher.Outcome.Published.class, refresher.refreshOnce());
    }

    @Test
    void aGoodAnswerIsPublishedWithItsTime() {
        firstGoodAnswer();
        PodMap map = attribution.current();
        assertEquals(List.of(ref("ml", "train", "main")), map.pods(GPU0));
        assertEquals(List.of(ref("ml", "small", "side")), map.pods(MIG_GI7));
        double age = meters.get("gpu_agent.kubelet.mapping.age").gauge().value();
        assertTrue(age >= 0 && age < 60, "age " + age);
        assertEquals(2.0, meters.get("gpu_agent.kubelet.attributed.devices").gauge().value());
    }

    @Test
    void theAllocatableDevicesComeWithTheMapAndAKubeletWithoutTheCallIsNotAskedAgain() {
        firstGoodAnswer();   // the fake has no GetAllocatableResources yet: UNIMPLEMENTED
        assertEquals(Optional.empty(), attribution.current().allocatable());
        assertEquals(Optional.empty(), attribution.current().allocatable(GPU0));
        assertTrue(Double.isNaN(meters.get("gpu_agent.kubelet.allocatable.devices").gauge().value()));
        assertEquals(1, kubelet.allocatableCalls());
        kubelet.offer(allocatable("nvidia.com/gpu", GPU1));
        assertInstanceOf(PodRefresher.Outcome.Published.class, refresher.refreshOnce());
        assertEquals(1, kubelet.allocatableCalls(), "asked again after UNIMPLEMENTED");
        assertEquals(Optional.empty(), attribution.current().allocatable());
    }

    @Test
    void aKubeletWithTheCallSaysWhichDevicesItOffers() {
        kubelet.start().offer(allocatable("nvidia.com/gpu", GPU1, "GPU-not-on-this-node"))
                .answer(pods(pod("ml", "train", container("main", "nvidia.com/gpu", GPU0))));
        assertInstanceOf(PodRefresher.Outcome.Published.class, refresher.refreshOnce());
        PodMap map = attribution.current();
        assertEquals(Optional.of(Set.of(GPU1)), map.allocatable());   // resolved as held ids are; others dropped
        assertEquals(Optional.of(false), map.allocatable(GPU0));
        assertEquals(Optional.of(true), map.allocatable(GPU1));
        assertEquals(1.0, meters.get("gpu_agent.kubelet.allocatable.devices").gauge().value());
        assertEquals(List.of(ref("ml", "train", "main")), map.pods(GPU0));   // the labels as without it

        kubelet.offer(allocatable("nvidia.com/mig-1g.10gb", MIG_GI7));
        assertInstanceOf(PodRefresher.Outcome.Published.class, refresher.refreshOnce());
        assertEquals(Optional.of(Set.of(MIG_GI7)), attribution.current().allocatable());
        assertEquals(2, kubelet.allocatableCalls());
    }

    @Test
    void anEmptyAnswerIsGoodAndClearsTheMap() {
        firstGoodAnswer();
        kubelet.answer(pods());
        assertInstanceOf(PodRefresher.Outcome.Published.class, refresher.refreshOnce());
        assertTrue(attribution.current().isEmpty());
    }

    @Test
    void aMissingSocketKeepsNothingAndThenTheSocketAppears() {
        var outcome = assertInstanceOf(PodRefresher.Outcome.Failed.class, refresher.refreshOnce());
        assertEquals(Reason.SOCKET_MISSING, outcome.failure().reason());
        assertEquals(1.0, failures(Reason.SOCKET_MISSING));
        assertTrue(attribution.last().isEmpty());
        assertTrue(Double.isNaN(meters.get("gpu_agent.kubelet.mapping.age").gauge().value()));

        firstGoodAnswer();
        assertEquals(List.of(ref("ml", "train", "main")), attribution.current().pods(GPU0));
    }

    @Test
    void aHungKubeletEndsAtTheDeadlineAndTheLastGoodMapStays() {
        firstGoodAnswer();
        PodAttribution.Published before = attribution.last().orElseThrow();
        kubelet.hang();
        var outcome = assertInstanceOf(PodRefresher.Outcome.Failed.class, refresher.refreshOnce());
        assertEquals(Reason.DEADLINE, outcome.failure().reason());
        assertEquals(before, attribution.last().orElseThrow());
        assertEquals(1.0, failures(Reason.DEADLINE));

        kubelet.answer(pods(pod("ml", "next", container("main", "nvidia.com/gpu", GPU1))));
        assertInstanceOf(PodRefresher.Outcome.Published.class, refresher.refreshOnce());
        assertEquals(List.of(ref("ml", "next", "main")), attribution.current().pods(GPU1));
    }

    @Test
    void aHundredMegabyteAnswerIsRefusedByTheSizeLimitAndTheLastGoodMapStays() {
        // A deadline long enough for the fake to write 100 MB on a busy machine: the size limit must say no.
        refresher.close();
        refresher = refresher(GpuIdType.UID, Duration.ofSeconds(30));
        firstGoodAnswer();
        PodAttribution.Published before = attribution.last().orElseThrow();
        kubelet.huge(100);
        var outcome = assertInstanceOf(PodRefresher.Outcome.Failed.class, refresher.refreshOnce());
        assertEquals(Reason.TOO_LARGE, outcome.failure().reason(), outcome.failure().getMessage());
        assertEquals(before, attribution.last().orElseThrow());
        assertEquals(1.0, failures(Reason.TOO_LARGE));

        kubelet.answer(pods());
        assertInstanceOf(PodRefresher.Outcome.Published.class, refresher.refreshOnce(), "the same channel works on");
    }

    @Test
    void aKubeletRestartIsANewSocketAndTheNextRefreshUsesIt() {
        firstGoodAnswer();
        kubelet.stop();
        var gone = assertInstanceOf(PodRefresher.Outcome.Failed.class, refresher.refreshOnce());
        assertEquals(Reason.SOCKET_MISSING, gone.failure().reason());

        int before = kubelet.calls();
        kubelet.start().answer(pods(pod("ml", "after", container("main", "nvidia.com/gpu", GPU1))));
        assertInstanceOf(PodRefresher.Outcome.Published.class, refresher.refreshOnce());
        assertEquals(List.of(ref("ml", "after", "main")), attribution.current().pods(GPU1));
        assertEquals(before + 1, kubelet.calls());

        // Restarted between two refreshes: the socket file is new while the old channel still looks open.
        kubelet.restart();
        kubelet.answer(pods(pod("ml", "again", container("main", "nvidia.com/gpu", GPU0))));
        assertInstanceOf(PodRefresher.Outcome.Published.class, refresher.refreshOnce());
        assertEquals(List.of(ref("ml", "again", "main")), attribution.current().pods(GPU0));
    }

    @Test
    void gkeIdsAndDraClaimsComeThroughTheSocket() {
        refresher.close();
        refresher = refresher(GpuIdType.DEVICE_NAME, Duration.ofMillis(500));
        kubelet.start().answer(pods(
                pod("gke", "whole", container("c", "nvidia.com/gpu", "nvidia1/vgpu0")),
                pod("gke", "mig", container("c", "nvidia.com/gpu", "nvidia5/gi7")),
                pod("dra", "claim", FakeKubelet.claim("c", PodMapping.DRA_DRIVER, "gpu-0"))));
        var outcome = assertInstanceOf(PodRefresher.Outcome.Published.class, refresher.refreshOnce());
        assertEquals(0, outcome.unresolved());
        PodMap map = attribution.current();
        assertEquals(List.of(ref("gke", "whole", "c")), map.pods(GPU1));
        assertEquals(List.of(ref("gke", "mig", "c")), map.pods(MIG_GI7));
        assertEquals(List.of(ref("dra", "claim", "c")), map.pods(GPU0));
    }

    @Test
    void anAnswerBeforeTheFirstGpuReadingsIsNotUsed() {
        refresher.close();
        client = new GrpcPodResources(kubelet.socket(), Duration.ofMillis(500), MAX_ANSWER);
        refresher = new PodRefresher(client, new PodMapping(List.of("nvidia.com/gpu"), GpuIdType.UID),
                () -> Snapshot.initial(java.time.Instant.now()), attribution, new SimpleMeterRegistry(),
                Clock.systemUTC(), Duration.ofSeconds(1));
        kubelet.start().answer(pods(pod("ml", "train", container("main", "nvidia.com/gpu", GPU0))));
        assertInstanceOf(PodRefresher.Outcome.NoGpus.class, refresher.refreshOnce());
        assertTrue(attribution.last().isEmpty());
    }

    @Test
    void theThreadRefreshesOnItsOwn() {
        kubelet.start().answer(pods(pod("ml", "train", container("main", "nvidia.com/gpu", GPU0))));
        refresher.start();
        long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (attribution.current().isEmpty() && System.nanoTime() < until) {
            Thread.onSpinWait();
        }
        assertEquals(List.of(ref("ml", "train", "main")), attribution.current().pods(GPU0));
    }

    @Test
    void podLabelsNameTheLastHolderOfADeviceAsDcgmExporterDoes() {
        kubelet.start().answer(pods(pod("a", "one", container("c1", "nvidia.com/gpu", GPU0 + "::0")),
                pod("b", "two", container("c2", "nvidia.com/gpu", GPU0 + "::1")),
                pod("ml", "small", container("side", "nvidia.com/mig-1g.10gb", MIG_GI7))));
        PodLabels labels = new PodLabels(attribution);
        long version = labels.version();
        refresher.refreshOnce();
        assertTrue(labels.version() > version, "a new map re-renders the GPU family");
        GpuInfo gpu0 = TestNode.snapshot().gpus().get(0).info();
        assertEquals(Map.of("pod", "two", "namespace", "b", "container", "c2"), labels.extraLabels(gpu0));
        assertEquals(List.of("pod", "namespace", "container"), List.copyOf(labels.extraLabels(gpu0).keySet()));
        var gpu2 = TestNode.snapshot().gpus().get(2);
        MigInstance gi7 = gpu2.migDevice(MIG_GI7).info();
        assertEquals(Map.of("pod", "small", "namespace", "ml", "container", "side"), labels.extraLabels(gpu2.info(), gi7));
        assertEquals(Map.of(), labels.extraLabels(gpu2.info()), "the parent of MIG devices is no one's");
        version = labels.version();
        refresher.refreshOnce();
        assertEquals(version, labels.version(), "the same map again renders nothing anew");
    }
}
