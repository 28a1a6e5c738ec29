package io.gpuagent.agent.lease;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The choice rule on its own, on made-up topologies. */
class GpuPickerTest {

    /** Two groups of {@code size} GPUs: MULTIPLE (2) inside a group, SYSTEM (5) across; NVLink only inside. */
    private static GpuPicker.Topology twoGroups(int size) {
        return new GpuPicker.Topology() {
            @Override
            public int pcieDistance(int a, int b) {
                return a / size == b / size ? 2 : 5;
            }

            @Override
            public boolean nvlink(int a, int b) {
                return a / size == b / size;
            }
        };
    }

    private static List<Integer> range(int from, int to) {
        return IntStream.range(from, to).boxed().toList();
    }

    @Test
    void prefersCloseGpusAndLowIndicesOnAnEmptyNode() {
        GpuPicker p = new GpuPicker(range(0, 8), twoGroups(4));
        assertEquals(Optional.of(List.of(0)), p.pick(1, false));
        assertEquals(Optional.of(List.of(0, 1, 2, 3)), p.pick(4, false));
        assertEquals(Optional.of(List.of(0, 1, 2, 3, 4)), p.pick(5, false));
    }

    @Test
    void fillsThePartlyUsedGroupBeforeBreakingAWholeOne() {
        // GPUs 0 and 1 are taken: 2-3 left in the first group, 4-7 whole.
        GpuPicker p = new GpuPicker(List.of(2, 3, 4, 5, 6, 7), twoGroups(4));
        assertEquals(Optional.of(List.of(2)), p.pick(1, false));
        assertEquals(Optional.of(List.of(2, 3)), p.pick(2, false));
        assertEquals(Optional.of(List.of(4, 5, 6, 7)), p.pick(4, false));
    }

    @Test
    void nvlinkConstraintNeedsPairwiseLinks() {
        GpuPicker p = new GpuPicker(List.of(2, 3, 4, 5, 6, 7), twoGroups(4));
        assertEquals(Optional.of(List.of(4, 5, 6)), p.pick(3, true), "only 4-7 have three linked GPUs");
        assertTrue(p.pick(5, true).isEmpty());
        assertEquals(Optional.of(List.of(2, 4, 5, 6, 7)), p.pick(5, false), "the whole group and one more: smaller sum");
    }

    @Test
    void tooManyAskedIsEmpty() {
        GpuPicker p = new GpuPicker(List.of(1, 2), twoGroups(4));
        assertTrue(p.pick(3, false).isEmpty());
        assertTrue(p.pick(0, false).isEmpty());
    }

    @Test
    void largeNodesUseTheGreedyChoiceWithTheSameRule() {
        // 64 GPUs in groups of 8, choose 16: far past the exhaustive limit.
        assertTrue(GpuPicker.binomial(64, 16) > GpuPicker.EXHAUSTIVE_LIMIT);
        GpuPicker p = new GpuPicker(range(0, 64), twoGroups(8));
        assertEquals(Optional.of(range(0, 8)), p.pick(8, true));
        List<Integer> sixteen = p.pick(16, false).orElseThrow();
        assertEquals(16, sixteen.size());
        assertEquals(range(0, 16), sixteen);
    }
}
