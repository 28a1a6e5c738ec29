package io.gpuagent.agent.lease;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The MIG choice rule on its own: fewest GPUs, then the fullest GPU first, then the lowest index and instance. */
class MigPickerTest {

    /** {@code count} free devices on {@code gpu}, GPU instances from {@code firstGi}. */
    private static List<MigPicker.Candidate> on(int gpu, int firstGi, int count) {
        List<MigPicker.Candidate> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            out.add(new MigPicker.Candidate("MIG-" + gpu + "-" + (firstGi + i), gpu, firstGi + i, 0));
        }
        return out;
    }

    private static List<String> pick(List<MigPicker.Candidate> free, Map<Integer, Integer> leasable, int n) {
        return new MigPicker(free, leasable).pick(n).map(l -> l.stream().map(MigPicker.Candidate::uuid).toList())
                .orElse(List.of());
    }

    private static List<MigPicker.Candidate> concat(List<MigPicker.Candidate> a, List<MigPicker.Candidate> b) {
        List<MigPicker.Candidate> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }

    @Test
    void aGpuAlreadyInUseFillsUpBeforeAnIdleOneIsStarted() {
        // GPU 0 has 2 of its 7 left (5 leased), GPU 1 all 7 free.
        List<MigPicker.Candidate> free = concat(on(1, 7, 7), on(0, 12, 2));
        Map<Integer, Integer> leasable = Map.of(0, 2, 1, 7);
        assertEquals(List.of("MIG-0-12"), pick(free, leasable, 1));
        assertEquals(List.of("MIG-0-12", "MIG-0-13"), pick(free, leasable, 2));
        assertEquals(List.of("MIG-1-7", "MIG-1-8", "MIG-1-9"), pick(free, leasable, 3), "one GPU when one holds them");
    }

    @Test
    void devicesOfOtherProfilesCountForPacking() {
        // Two 1g.10gb free on each; GPU 1 also has a free 3g.40gb, so GPU 0 is the fuller one.
        List<MigPicker.Candidate> free = concat(on(1, 1, 2), on(0, 1, 2));
        assertEquals(List.of("MIG-0-1", "MIG-0-2"), pick(free, Map.of(0, 2, 1, 3), 2));
        assertEquals(List.of("MIG-1-1", "MIG-1-2"), pick(free, Map.of(0, 3, 1, 2), 2));
        assertEquals(List.of("MIG-0-1"), pick(free, Map.of(), 1), "a tie: the lowest index");
    }

    @Test
    void aRequestNoGpuHoldsGoesToTheFewestGpus() {
        // 3 + 2 + 1 free: 5 take the GPU of 3 whole and the best-fitting GPU for the other 2.
        List<MigPicker.Candidate> free = concat(concat(on(0, 1, 1), on(1, 1, 3)), on(2, 1, 2));
        Map<Integer, Integer> leasable = Map.of(0, 1, 1, 3, 2, 2);
        assertEquals(List.of("MIG-1-1", "MIG-1-2", "MIG-1-3", "MIG-2-1", "MIG-2-2"), pick(free, leasable, 5));
        assertEquals(List.of("MIG-0-1", "MIG-1-1", "MIG-1-2", "MIG-1-3"), pick(free, leasable, 4),
                "the rest (1) on the fullest GPU that holds it");
        assertEquals(6, pick(free, leasable, 6).size());
        assertTrue(pick(free, leasable, 7).isEmpty());
        assertTrue(pick(free, leasable, 0).isEmpty());
    }
}
