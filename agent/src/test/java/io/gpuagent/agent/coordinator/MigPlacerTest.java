package io.gpuagent.agent.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.agent.health.Samples;
import io.gpuagent.agent.lease.Inventory;
import io.gpuagent.agent.lease.MigRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The placement of MIG devices by profile, and the node list's bookkeeping of them, on hand-made inventories. */
class MigPlacerTest {

    private static final Placer.Ask ONE_GIG_3 = Placer.Ask.mig(new MigRequest("1g.10gb", 3), null);

    static String migUuid(String node, int gpu, int gi) {
        return "MIG-" + node + "-" + gpu + "-" + gi;
    }

    /** GPU {@code g} of {@code node} in MIG mode; its devices: one per profile, GIs 1.., leased where {@code leased}. */
    static List<Inventory.Mig> devices(String node, int gpu, List<String> profiles, int... leased) {
        List<Inventory.Mig> out = new ArrayList<>();
        for (int gi = 1; gi <= profiles.size(); gi++) {
            int g = gi;
            boolean held = java.util.stream.IntStream.of(leased).anyMatch(x -> x == g);
            out.add(new Inventory.Mig(migUuid(node, gpu, gi), gpu, gpu + "/" + gi, profiles.get(gi - 1), 9856, 9843L,
                    "HEALTHY", false, held ? "l-" + node + gpu + gi : null,
                    !held));
        }
        return out;
    }

    static Inventory.Gpu migGpu(String node, int i) {
        return new Inventory.Gpu(i, PlacerTest.uuid(node, i), "NVIDIA H100 80GB HBM3", null, "HEALTHY", List.of(), false,
                81559L, 1024L, null, false, true);
    }

    /** A node whose GPUs 0..n-1 are in MIG mode with the given devices, plus one whole free GPU. */
    static Inventory node(String name, List<Inventory.Mig> mig) {
        int migGpus = mig.stream().mapToInt(Inventory.Mig::gpu).max().orElse(-1) + 1;
        List<Inventory.Gpu> gpus = new ArrayList<>();
        for (int i = 0; i < migGpus; i++) {
            gpus.add(migGpu(name, i));
        }
        gpus.add(PlacerTest.gpu(name, migGpus, "HEALTHY", true));
        Inventory base = PlacerTest.node(name, gpus, (i, j) -> "NODE", (i, j) -> true);
        return new Inventory(base.node(), base.agentUrl(), base.takenAt(), true, base.gpus(), base.links(), mig);
    }

    static List<String> uuids(Placer.Candidate c) {
        return c.parts().getFirst().uuids();
    }

    @Test
    void aMigAskGoesToTheNodeLeftWithTheFewestDevicesOfTheProfile() {
        Inventory a = node("a", devices("a", 0, List.of("1g.10gb", "1g.10gb", "1g.10gb", "1g.10gb", "1g.10gb",
                "1g.10gb", "1g.10gb"), 1, 2));
        Inventory b = node("b", devices("b", 0, List.of("1g.10gb", "1g.10gb", "1g.10gb", "3g.40gb")));
        Inventory c = PlacerTest.freeNode("c", 8);
        List<Placer.Candidate> cs = Placer.candidates(List.of(c, a, b), ONE_GIG_3);
        assertEquals(List.of("b", "a"), PlacerTest.firstNodes(cs), "b has none left over, a two; c has no MIG");
        assertEquals(List.of(migUuid("b", 0, 1), migUuid("b", 0, 2), migUuid("b", 0, 3)), uuids(cs.getFirst()));
        assertEquals(List.of(migUuid("a", 0, 3), migUuid("a", 0, 4), migUuid("a", 0, 5)), uuids(cs.get(1)));

        Placer.Ask big = Placer.Ask.mig(new MigRequest("3g.40gb", 1), null);
        assertEquals(List.of(List.of(new Placer.Part("b", "http://b:9400", List.of(migUuid("b", 0, 4))))),
                PlacerTest.parts(Placer.candidates(List.of(a, b, c), big)));
    }

    @Test
    void onTheNodeTheFullestGpuFillsFirstAsTheAgentWouldChoose() {
        List<Inventory.Mig> mig = new ArrayList<>(devices("a", 0, List.of("1g.10gb", "1g.10gb", "1g.10gb")));
        mig.addAll(devices("a", 1, List.of("1g.10gb", "1g.10gb", "1g.10gb", "1g.10gb", "1g.10gb"), 1, 2, 3, 4));
        Placer.Ask one = Placer.Ask.mig(new MigRequest("1g.10gb", 1), null);
        assertEquals(List.of(migUuid("a", 1, 5)), uuids(Placer.candidates(List.of(node("a", mig)), one).getFirst()),
                "GPU 1 is already in use: its last free device, GPU 0 stays whole");
        assertEquals(List.of(migUuid("a", 0, 1), migUuid("a", 0, 2), migUuid("a", 0, 3)),
                uuids(Placer.candidates(List.of(node("a", mig)), ONE_GIG_3).getFirst()), "one GPU when one holds them");
    }

    @Test
    void nothingFitsSaysWhatEachNodeHasAndAMigGpuIsNeverPlacedWhole() {
        Inventory a = node("a", devices("a", 0, List.of("1g.10gb", "1g.10gb", "3g.40gb"), 1));
        List<Inventory.Mig> broken = new ArrayList<>(devices("b", 0, List.of("1g.10gb", "1g.10gb")));
        broken.set(0, new Inventory.Mig(migUuid("b", 0, 1), 0, "0/1", "1g.10gb", 9856, 9843L, "UNHEALTHY", false, null,
                false));
        Inventory b = node("b", broken);
        Inventory c = PlacerTest.freeNode("c", 2);
        assertEquals(List.of(), Placer.candidates(List.of(a, b, c), ONE_GIG_3), "3 free across nodes is not enough");
        assertEquals("a: 1 of 2 1g.10gb MIG devices leasable (1 leased); b: 1 of 2 1g.10gb MIG devices leasable "
                + "(1 UNHEALTHY); c: no 1g.10gb MIG device (no MIG devices)", Placer.describe(List.of(c, b, a), ONE_GIG_3));

        List<Placer.Candidate> whole = Placer.candidates(List.of(a), PlacerTest.ask(1));
        assertEquals(List.of(PlacerTest.part("a", 1)), whole.getFirst().parts(), "GPU 0 is in MIG mode");
        assertEquals(List.of(), Placer.candidates(List.of(a), PlacerTest.ask(2)));
        assertEquals("a: 1 of 2 leasable (1 in MIG mode)", Placer.describe(List.of(a), PlacerTest.ask(2)));
        assertThrows(IllegalArgumentException.class, () -> new Placer.Ask(1, null, true, "1g.10gb"));
    }

    @Test
    void minMemoryCountsEachDevicesMemory() {
        Inventory a = node("a", devices("a", 0, List.of("1g.10gb", "1g.10gb", "1g.10gb")));
        assertEquals(List.of(), Placer.candidates(List.of(a), Placer.Ask.mig(new MigRequest("1g.10gb", 1), 10_000L)));
        assertEquals(1, Placer.candidates(List.of(a), Placer.Ask.mig(new MigRequest("1g.10gb", 1), 9_000L)).size());
    }

    @Test
    void heldMigDevicesStayOutUntilTheHeartbeatShowsTheLeaseAndAReleaseFreesThem() {
        NodeRegistry registry = new NodeRegistry(new Samples.TestClock(), Duration.ofSeconds(15));
        Inventory a = node("a", devices("a", 0, List.of("1g.10gb", "1g.10gb", "1g.10gb", "1g.10gb")));
        registry.heartbeat(a);
        Placer.Ask two = Placer.Ask.mig(new MigRequest("1g.10gb", 2), null);
        Placer.Candidate first = Placer.candidates(registry.placeable(Map.of()), two).getFirst();
        registry.hold(first);
        registry.granted("a", first.parts().getFirst().uuids());
        registry.heartbeat(a);   // sent before the grant: the devices stay held
        assertEquals(List.of(migUuid("a", 0, 3), migUuid("a", 0, 4)),
                uuids(Placer.candidates(registry.placeable(Map.of()), two).getFirst()));
        Placer.Candidate second = Placer.candidates(registry.placeable(Map.of()), two).getFirst();
        registry.hold(second);
        assertEquals(List.of(), Placer.candidates(registry.placeable(Map.of()), two));

        registry.unhold(second);
        registry.released("a", first.parts().getFirst().uuids());
        assertEquals(4, Placer.eligibleMig(registry.placeable(Map.of()).getFirst(), two).size());
        assertEquals(3, Placer.eligibleMig(registry.placeable(Map.of("a", java.util.Set.of(migUuid("a", 0, 2))))
                .getFirst(), two).size(), "a device an agent refused is left out of this placement");
    }

    @Test
    void anInventoryWithImpossibleMigDevicesIsRefused() {
        Inventory ok = node("a", devices("a", 0, List.of("1g.10gb")));
        assertEquals(Optional.empty(), NodeRegistry.problem(ok));
        List<Inventory.Mig> eight = devices("a", 0, java.util.Collections.nCopies(8, "1g.10gb"));
        assertEquals(Optional.of("GPU 0 has more than 7 MIG devices"), NodeRegistry.problem(node("a", eight)));
        List<Inventory.Mig> twice = new ArrayList<>(devices("a", 0, List.of("1g.10gb")));
        twice.add(twice.getFirst());
        assertTrue(NodeRegistry.problem(node("a", twice)).orElseThrow().contains("appears twice"));
        Inventory orphan = new Inventory("a", "http://a:9400", PlacerTest.T, true, List.of(),
                List.of(), devices("a", 3, List.of("1g.10gb")));
        assertEquals(Optional.of("MIG device " + migUuid("a", 3, 1) + " is on GPU 3, which is not in \"gpus\""),
                NodeRegistry.problem(orphan));
        Inventory notMig = new Inventory("a", "http://a:9400", PlacerTest.T, true, List.of(migGpu("a", 0)), List.of(),
                List.of(new Inventory.Mig("GPU-x", 0, "0/1", "1g.10gb", 1, null, "HEALTHY", false, null, true)));
        assertTrue(NodeRegistry.problem(notMig).orElseThrow().contains("MIG-"));
    }
}
