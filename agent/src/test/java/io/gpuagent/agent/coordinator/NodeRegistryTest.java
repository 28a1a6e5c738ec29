package io.gpuagent.agent.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.agent.health.Samples;
import io.gpuagent.agent.lease.GpuLeases;
import io.gpuagent.agent.lease.Inventory;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The node list's bookkeeping between heartbeats: held GPUs, releases, silent nodes. */
class NodeRegistryTest {

    private final Samples.TestClock clock = new Samples.TestClock();
    private final NodeRegistry registry = new NodeRegistry(clock, Duration.ofSeconds(15));

    @Test
    void gpusTakenByThisCoordinatorStayOutUntilAHeartbeatShowsTheLease() {
        Inventory a = PlacerTest.freeNode("a", 2);
        assertTrue(registry.heartbeat(a));
        assertFalse(registry.heartbeat(a), "second heartbeat: already registered");
        Placer.Candidate one = Placer.candidates(registry.placeable(Map.of()), PlacerTest.ask(1)).getFirst();
        registry.hold(one);
        registry.granted("a", one.parts().getFirst().uuids());
        assertEquals(List.of(PlacerTest.part("a", 1)),
                Placer.candidates(registry.placeable(Map.of()), PlacerTest.ask(1)).getFirst().parts());

        registry.heartbeat(a);   // taken before the grant: the GPU stays held
        assertEquals(1, leasable());
        registry.heartbeat(withLease(a, 0));   // the agent shows the lease now
        assertEquals(1, leasable());
        registry.heartbeat(a);   // the lease ended on the agent (released there): free again
        assertEquals(2, leasable());
    }

    @Test
    void aHoldTheAgentNeverConfirmsEndsAfterTheNodeTimeout() {
        Inventory a = PlacerTest.freeNode("a", 1);
        registry.heartbeat(a);
        registry.granted("a", List.of(PlacerTest.uuid("a", 0)));
        clock.advance(Duration.ofSeconds(10));
        registry.heartbeat(a);
        assertEquals(0, leasable());
        clock.advance(Duration.ofSeconds(10));
        registry.heartbeat(a);
        assertEquals(1, leasable());
    }

    @Test
    void aReleaseFreesTheGpusAtOnceUnlessTheyAreUnhealthyOrCordoned() {
        Inventory a = withLease(PlacerTest.freeNode("a", 2), 0);
        registry.heartbeat(withLease(a, 1));
        assertEquals(0, leasable());
        registry.released("a", List.of(PlacerTest.uuid("a", 0), PlacerTest.uuid("a", 1)));
        assertEquals(2, leasable());

        Inventory sick = PlacerTest.node("b", List.of(
                new Inventory.Gpu(0, PlacerTest.uuid("b", 0), "H100", null, "UNHEALTHY", List.of("xid 79"), false, 1L, 1L,
                        new GpuLeases.Held("l", "j", clock.instant()), false)), (i, j) -> "NODE", (i, j) -> true);
        registry.heartbeat(sick);
        registry.released("b", List.of(PlacerTest.uuid("b", 0)));
        assertTrue(registry.placeable(Map.of()).stream().filter(n -> n.node().equals("b")).findFirst().orElseThrow()
                .gpus().stream().noneMatch(Inventory.Gpu::leasable));
    }

    @Test
    void excludedGpusAreNotPlaceableForThatRequest() {
        registry.heartbeat(PlacerTest.freeNode("a", 2));
        assertEquals(List.of(PlacerTest.part("a", 1)), Placer.candidates(
                registry.placeable(Map.of("a", Set.of(PlacerTest.uuid("a", 0)))), PlacerTest.ask(1)).getFirst().parts());
        assertEquals(2, leasable(), "nothing is remembered");
    }

    @Test
    void silentNodesAreDroppedAndComeBackWithTheirNextHeartbeat() {
        registry.heartbeat(PlacerTest.freeNode("a", 1));
        clock.advance(Duration.ofSeconds(10));
        registry.heartbeat(PlacerTest.freeNode("b", 1));
        clock.advance(Duration.ofSeconds(6));
        List<NodeRegistry.Dropped> dropped = registry.dropSilent();
        assertEquals(List.of("a"), dropped.stream().map(NodeRegistry.Dropped::node).toList());
        assertEquals(Duration.ofSeconds(16), dropped.getFirst().silent());
        assertEquals(List.of("b"), registry.nodes().stream().map(NodeRegistry.Node::node).toList());
        assertTrue(registry.heartbeat(PlacerTest.freeNode("a", 1)), "registered again");
    }

    @Test
    void anInventoryThatCannotBePlacedOnIsRefusedWithTheReason() {
        Inventory ok = PlacerTest.freeNode("a", 1);
        Inventory noUrl = new Inventory("a", null, clock.instant(), true, ok.gpus(), ok.links());
        Inventory badUrl = new Inventory("a", "dgx-a:9400", clock.instant(), true, ok.gpus(), ok.links());
        Inventory twice = new Inventory("a", ok.agentUrl(), clock.instant(), true, List.of(ok.gpus().get(0), ok.gpus().get(0)), List.of());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> registry.heartbeat(noUrl)).getMessage().contains("agentUrl"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> registry.heartbeat(badUrl)).getMessage().contains("agentUrl"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> registry.heartbeat(twice)).getMessage().contains("twice"));
        assertTrue(registry.nodes().isEmpty());
    }

    private int leasable() {
        return registry.placeable(Map.of()).stream().mapToInt(n -> (int) n.gpus().stream().filter(Inventory.Gpu::leasable)
                .count()).sum();
    }

    private Inventory withLease(Inventory inv, int index) {
        List<Inventory.Gpu> gpus = inv.gpus().stream().map(g -> g.index() != index ? g
                : new Inventory.Gpu(g.index(), g.uuid(), g.name(), g.pciBusId(), g.health(), g.reasons(), g.cordoned(),
                        g.memoryTotalMiB(), g.memoryFreeMiB(), new GpuLeases.Held("l-" + index, "j", clock.instant()), false)).toList();
        return new Inventory(inv.node(), inv.agentUrl(), clock.instant(), inv.healthy(), gpus, inv.links());
    }

    @Test
    void aNodeNameStaysBoundToItsUrlAcrossADropUntilItIsForgotten() {
        Inventory a = PlacerTest.freeNode("a", 1);
        registry.heartbeat(a);
        Inventory elsewhere = new Inventory("a", "http://10.0.0.99:9400", a.takenAt(), a.healthy(), a.gpus(), a.links());
        assertThrows(NodeRegistry.Moved.class, () -> registry.heartbeat(elsewhere));
        assertEquals(a.agentUrl(), registry.node("a").orElseThrow().agentUrl());
        clock.advance(Duration.ofSeconds(60));
        assertEquals(1, registry.dropSilent().size());
        assertThrows(NodeRegistry.Moved.class, () -> registry.heartbeat(elsewhere),
                "a silent node's name cannot be taken over from elsewhere");
        assertTrue(registry.forget("a"));
        assertFalse(registry.forget("a"));
        assertTrue(registry.heartbeat(elsewhere));
        assertEquals("http://10.0.0.99:9400", registry.node("a").orElseThrow().agentUrl());
    }
}
