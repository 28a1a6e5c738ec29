package io.gpuagent.agent.lease;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Chooses {@code n} GPUs out of the leasable ones of one node: for a lease on this node ({@link LeaseAdmission})
 * and for each node the coordinator's placer considers. The rule (docs/placement.md), deterministic:
 * <ol>
 *   <li>with {@code sameNvlinkDomain}, only sets whose GPUs are pairwise NVLink-connected;</li>
 *   <li>closest in PCIe: the smallest worst pairwise common ancestor (INTERNAL &lt; SINGLE &lt; MULTIPLE &lt;
 *       HOSTBRIDGE &lt; NODE &lt; SYSTEM; unknown counts as SYSTEM), then the smallest sum over pairs;</li>
 *   <li>least fragmenting: the set farthest from the GPUs left free (largest sum of ancestor levels between
 *       chosen and remaining GPUs), so a partly used PCIe group is filled before a whole one is broken;</li>
 *   <li>the lowest indices.</li>
 * </ol>
 * Every subset is scored while there are at most {@link #EXHAUSTIVE_LIMIT} of them (16 GPUs choose 8 is
 * 12,870); beyond that, one greedy set grown from each GPU is scored instead.
 */
public final class GpuPicker {

    static final long EXHAUSTIVE_LIMIT = 200_000;

    private final List<Integer> free;        // indices of leasable GPUs, ascending
    private final Topology topology;

    /** How far two GPUs are; both by index. */
    public interface Topology {
        /**
         * Lower is nearer: on the node, the {@link PcieLevel} position (unknown as SYSTEM); the placer folds
         * NVLink in as a tie-break.
         */
        int pcieDistance(int a, int b);

        boolean nvlink(int a, int b);
    }

    /** {@code free}: the indices of the GPUs that may be chosen. */
    public GpuPicker(List<Integer> free, Topology topology) {
        this.free = free.stream().sorted().toList();
        this.topology = topology;
    }

    /** The chosen indices (ascending), empty when no set of {@code n} satisfies the constraint. */
    public Optional<List<Integer>> pick(int n, boolean sameNvlinkDomain) {
        if (n < 1 || n > free.size()) {
            return Optional.empty();
        }
        Best best = new Best();
        if (binomial(free.size(), n) <= EXHAUSTIVE_LIMIT) {
            combinations(n, 0, new int[n], 0, sameNvlinkDomain, best);
        } else {
            for (int seed : free) {
                greedyFrom(seed, n, sameNvlinkDomain).ifPresent(set -> best.offer(set, score(set)));
            }
        }
        return Optional.ofNullable(best.set).map(s -> Arrays.stream(s).boxed().toList());
    }

    private void combinations(int n, int from, int[] chosen, int depth, boolean nvlink, Best best) {
        if (depth == n) {
            best.offer(chosen.clone(), score(chosen));
            return;
        }
        for (int i = from; i <= free.size() - (n - depth); i++) {
            int g = free.get(i);
            if (nvlink && !linkedToAll(g, chosen, depth)) {
                continue;
            }
            chosen[depth] = g;
            combinations(n, i + 1, chosen, depth + 1, nvlink, best);
        }
    }

    private Optional<int[]> greedyFrom(int seed, int n, boolean nvlink) {
        int[] chosen = new int[n];
        chosen[0] = seed;
        for (int depth = 1; depth < n; depth++) {
            int pick = -1;
            long pickCost = Long.MAX_VALUE;
            for (int g : free) {
                if (contains(chosen, depth, g) || (nvlink && !linkedToAll(g, chosen, depth))) {
                    continue;
                }
                long worst = 0;
                long sum = 0;
                for (int k = 0; k < depth; k++) {
                    int d = topology.pcieDistance(g, chosen[k]);
                    worst = Math.max(worst, d);
                    sum += d;
                }
                long cost = worst * 1_000_000 + sum;
                if (cost < pickCost) {
                    pick = g;
                    pickCost = cost;
                }
            }
            if (pick < 0) {
                return Optional.empty();
            }
            chosen[depth] = pick;
        }
        Arrays.sort(chosen);
        return Optional.of(chosen);
    }

    private boolean linkedToAll(int g, int[] chosen, int depth) {
        for (int k = 0; k < depth; k++) {
            if (!topology.nvlink(g, chosen[k])) {
                return false;
            }
        }
        return true;
    }

    /** Lower is better: worst inside, sum inside, minus distance to the rest. */
    private long[] score(int[] set) {
        long worst = 0;
        long inside = 0;
        for (int i = 0; i < set.length; i++) {
            for (int j = i + 1; j < set.length; j++) {
                int d = topology.pcieDistance(set[i], set[j]);
                worst = Math.max(worst, d);
                inside += d;
            }
        }
        long apart = 0;
        for (int g : free) {
            if (!contains(set, set.length, g)) {
                for (int c : set) {
                    apart += topology.pcieDistance(c, g);
                }
            }
        }
        return new long[] {worst, inside, -apart};
    }

    private static boolean contains(int[] a, int len, int v) {
        for (int i = 0; i < len; i++) {
            if (a[i] == v) {
                return true;
            }
        }
        return false;
    }

    static long binomial(int n, int k) {
        long r = 1;
        for (int i = 1; i <= k; i++) {
            r = r * (n - k + i) / i;
            if (r > Long.MAX_VALUE / (n + 1)) {
                return Long.MAX_VALUE;
            }
        }
        return r;
    }

    /** Keeps the first set with the lowest score; sets arrive in ascending index order, so ties keep the lowest. */
    private static final class Best {
        int[] set;
        long[] score;

        void offer(int[] candidate, long[] candidateScore) {
            if (set == null || Arrays.compare(candidateScore, score) < 0
                    || (Arrays.compare(candidateScore, score) == 0 && Arrays.compare(candidate, set) < 0)) {
                set = candidate;
                score = candidateScore;
            }
        }
    }
}
