package io.gpuagent.agent.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.agent.lease.GpuLeases;
import io.gpuagent.agent.lease.Inventory;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.function.IntPredicate;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The placement policy on hand-made inventories: which GPUs, which nodes, in which order. */
class PlacerTest {

    static final Instant T = Instant.parse("2026-01-01T00:00:00Z");

    @Test
    void onlyGpusThatMayBeLeasedNowAreChosen() {
        List<Inventory.Gpu> gpus = List.of(
                gpu("a", 0, "UNHEALTHY", true),
                new Inventory.Gpu(1, uuid("a", 1), "H100", null, "HEALTHY", List.of(), true, 81559L, 81000L, null, true),
                new Inventory.Gpu(2, uuid("a", 2), "H100", null, "HEALTHY", List.of(), false, 81559L, 81000L,
                        new GpuLeases.Held("l-1", "j-1", T), true),
                gpu("a", 3, "HEALTHY", false),
                gpu("a", 4, "HEALTHY", true),
                gpu("a", 5, "DEGRADED", true),
                gpu("a", 6, "LOST", true),
                gpu("a", 7, "INITIALIZING", true));
        Inventory a = node("a", gpus, (i, j) -> "NODE", (i, j) -> true);

        assertEquals(List.of(List.of(part("a", 4, 5))), parts(Placer.candidates(List.of(a), ask(2))));
        assertEquals(List.of(), Placer.candidates(List.of(a), ask(3)));
        String why = Placer.describe(List.of(a), ask(3));
        assertEquals("a: 2 of 8 leasable (1 INITIALIZING, 1 LOST, 1 UNHEALTHY, 1 cordoned, 1 leased, 1 not leasable)", why);
    }

    @Test
    void oneNodeIsPreferredToSplittingAndTheBestFitComesFirst() {
        Inventory a = freeNode("a", 8);
        Inventory b = freeNode("b", 4);
        Inventory c = freeNode("c", 3);
        Inventory d = freeNode("d", 2);
        List<Placer.Candidate> three = Placer.candidates(List.of(a, b, c, d), ask(3));
        assertEquals(List.of("c", "b", "a"), firstNodes(three), "least fragmentation: fewest leasable left over");
        three.forEach(x -> assertEquals(1, x.parts().size()));

        List<Placer.Candidate> four = Placer.candidates(List.of(a, b, c, d), ask(4));
        assertEquals(List.of("b", "a"), firstNodes(four));
        assertEquals(List.of(part("b", 0, 1, 2, 3)), four.getFirst().parts());
    }

    @Test
    void aJobNoNodeCanHoldGoesToTheFewestNodes() {
        Inventory a = freeNode("a", 3);
        Inventory b = freeNode("b", 2);
        Inventory c = freeNode("c", 2);
        Inventory d = freeNode("d", 1);
        List<Placer.Candidate> six = Placer.candidates(List.of(d, c, b, a), ask(6));
        assertEquals(List.of(part("a", 0, 1, 2), part("b", 0, 1), part("d", 0)), six.getFirst().parts(),
                "3 nodes (3+2+1), the last one the best fit for the remaining GPU");
        assertEquals(List.of(part("a", 0, 1, 2), part("b", 0, 1), part("c", 0)), six.get(1).parts());
        assertEquals(2, six.size());
        six.forEach(x -> assertEquals(6, x.gpus()));

        List<Placer.Candidate> four = Placer.candidates(List.of(a, b, c, d), ask(4));
        assertEquals(List.of(part("a", 0, 1, 2), part("d", 0)), four.getFirst().parts(), "2 nodes, best fit second");

        assertEquals(List.of(), Placer.candidates(List.of(a, b, c, d), ask(9)), "8 leasable in all");
    }

    @Test
    void nvlinkWhenAskedMeansEveryPairInOneDomainAndNeverAcrossNodes() {
        // Two NVLink islands of four (0-3, 4-7); 2, 3, 6, 7 are leased.
        IntPredicate free = i -> i % 4 < 2;
        List<Inventory.Gpu> gpus = IntStream.range(0, 8).mapToObj(i -> free.test(i) ? gpu("a", i, "HEALTHY", true)
                : leased("a", i)).toList();
        Inventory a = node("a", gpus, PlacerTest::islands, (i, j) -> i / 4 == j / 4);

        assertEquals(List.of(), Placer.candidates(List.of(a), new Placer.Ask(3, null, true)));
        assertEquals(List.of(part("a", 0, 1, 4)), Placer.candidates(List.of(a), ask(3)).getFirst().parts());
        assertEquals(List.of(part("a", 0, 1)), Placer.candidates(List.of(a), new Placer.Ask(2, null, true))
                .getFirst().parts());

        Inventory b = freeNode("b", 2);
        assertEquals(List.of(), Placer.candidates(List.of(a, b), new Placer.Ask(6, null, true)),
                "an NVLink domain does not span nodes");
        assertEquals(6, Placer.candidates(List.of(a, b), ask(6)).getFirst().gpus());
    }

    @Test
    void gpusClosestInPcieAreChosenTogether() {
        // 0-1 only meet at the SYSTEM level, 2-3 share a PCIe switch; no NVLink at all.
        Inventory a = node("a", IntStream.range(0, 4).mapToObj(i -> gpu("a", i, "HEALTHY", true)).toList(),
                (i, j) -> i >= 2 && j >= 2 ? "SINGLE" : "SYSTEM", (i, j) -> false);
        assertEquals(List.of(part("a", 2, 3)), Placer.candidates(List.of(a), ask(2)).getFirst().parts());

        // Same PCIe level everywhere: NVLink breaks the tie.
        Inventory b = node("b", IntStream.range(0, 4).mapToObj(i -> gpu("b", i, "HEALTHY", true)).toList(),
                (i, j) -> "NODE", (i, j) -> i == 1 && j == 3);
        assertEquals(List.of(part("b", 1, 3)), Placer.candidates(List.of(b), ask(2)).getFirst().parts());
    }

    @Test
    void minimumMemoryUsesFreeMemoryWhenKnown() {
        List<Inventory.Gpu> gpus = List.of(
                new Inventory.Gpu(0, uuid("a", 0), "H100", null, "HEALTHY", List.of(), false, 81559L, 1000L, null, true),
                new Inventory.Gpu(1, uuid("a", 1), "H100", null, "HEALTHY", List.of(), false, 81559L, 80000L, null, true),
                new Inventory.Gpu(2, uuid("a", 2), "H100", null, "HEALTHY", List.of(), false, 81559L, null, null, true),
                new Inventory.Gpu(3, uuid("a", 3), "H100", null, "HEALTHY", List.of(), false, null, null, null, true));
        Inventory a = node("a", gpus, (i, j) -> "NODE", (i, j) -> true);
        Placer.Ask big = new Placer.Ask(2, 40_000L, false);
        assertEquals(List.of(part("a", 1, 2)), Placer.candidates(List.of(a), big).getFirst().parts());
        assertEquals(List.of(), Placer.candidates(List.of(a), new Placer.Ask(3, 40_000L, false)));
        assertTrue(Placer.describe(List.of(a), big).contains("2 under 40000 MiB free"), Placer.describe(List.of(a), big));
    }

    @Test
    void theSameInputsGiveTheSameAnswerWhateverTheirOrder() {
        List<Inventory> nodes = new ArrayList<>(List.of(freeNode("n3", 4), freeNode("n1", 4), freeNode("n2", 4),
                freeNode("n4", 2)));
        List<Placer.Candidate> first = Placer.candidates(nodes, ask(2));
        assertEquals(List.of("n4", "n1", "n2", "n3"), firstNodes(first), "equal fit: by node name");
        for (long seed = 1; seed <= 5; seed++) {
            Collections.shuffle(nodes, new java.util.Random(seed));
            assertEquals(first, Placer.candidates(nodes, ask(2)));
        }
        assertEquals(List.of(), Placer.candidates(List.of(), ask(1)));
        assertTrue(Placer.describe(List.of(), ask(1)).contains("no node is registered"));
        assertThrows(IllegalArgumentException.class, () -> ask(0));
    }

    // --- inventories ---

    static Placer.Ask ask(int gpus) {
        return new Placer.Ask(gpus, null, false);
    }

    static String uuid(String node, int i) {
        return "GPU-" + node + "-" + i;
    }

    static Inventory.Gpu gpu(String node, int i, String health, boolean leasable) {
        return new Inventory.Gpu(i, uuid(node, i), "NVIDIA H100 80GB HBM3", "00000000:" + (10 + i) + ":00.0", health,
                List.of(), false, 81559L, 81000L, null, leasable);
    }

    static Inventory.Gpu leased(String node, int i) {
        return new Inventory.Gpu(i, uuid(node, i), "NVIDIA H100 80GB HBM3", null, "HEALTHY", List.of(), false, 81559L,
                81000L, new GpuLeases.Held("lease-" + node + i, "other-job", T), false);
    }

    /** A node with {@code n} free healthy GPUs, all in one NVLink domain, in groups of four under a PCIe switch. */
    static Inventory freeNode(String name, int n) {
        return node(name, IntStream.range(0, n).mapToObj(i -> gpu(name, i, "HEALTHY", true)).toList(),
                PlacerTest::islands, (i, j) -> true);
    }

    static String islands(int i, int j) {
        return i / 4 == j / 4 ? "SINGLE" : "SYSTEM";
    }

    interface Level {
        String of(int i, int j);
    }

    interface NvLink {
        boolean of(int i, int j);
    }

    static Inventory node(String name, List<Inventory.Gpu> gpus, Level pcie, NvLink nvlink) {
        List<Inventory.Link> links = new ArrayList<>();
        for (int i = 0; i < gpus.size(); i++) {
            for (int j = i + 1; j < gpus.size(); j++) {
                boolean nv = nvlink.of(i, j);
                links.add(new Inventory.Link(gpus.get(i).uuid(), gpus.get(j).uuid(), nv, nv ? 18 : 0, pcie.of(i, j)));
            }
        }
        return new Inventory(name, "http://" + name + ":9400", T, true, gpus, links);
    }

    static Placer.Part part(String node, int... indices) {
        return new Placer.Part(node, "http://" + node + ":9400", IntStream.of(indices).mapToObj(i -> uuid(node, i)).toList());
    }

    static List<List<Placer.Part>> parts(List<Placer.Candidate> cs) {
        return cs.stream().map(Placer.Candidate::parts).toList();
    }

    static List<String> firstNodes(List<Placer.Candidate> cs) {
        return cs.stream().map(c -> c.parts().getFirst().node()).toList();
    }

    static Set<String> uuids(Placer.Candidate c) {
        return Set.copyOf(c.parts().stream().flatMap(p -> p.uuids().stream()).toList());
    }
}
