package io.gpuagent.agent.lease;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Chooses {@code n} MIG devices of one profile out of the leasable ones of one node: for a lease on this node
 * ({@link LeaseAdmission}) and for each node the coordinator's placer considers. MIG devices have no
 * peer-to-peer path to each other, so topology does not matter; what does is which GPUs stay untouched. The
 * rule (docs/placement.md#which-mig-devices-a-mig-request-gets), deterministic:
 * <ol>
 *   <li>the fewest GPUs: one GPU when one has {@code n} of them, else the GPUs with the most of them give all
 *       of theirs and the rest goes to one more;</li>
 *   <li>packing: the GPU (for the rest, the last GPU) with the fewest leasable MIG devices of any profile, so a
 *       GPU already in use fills up before an idle one is started, and idle GPUs stay whole for a reset or a
 *       new MIG layout without draining anyone;</li>
 *   <li>the fewest leasable devices of the profile on it, then the lowest GPU index; on a GPU, the lowest GPU
 *       instance, then compute instance.</li>
 * </ol>
 */
public final class MigPicker {

    /** A MIG device that may be chosen, and where it is. */
    public record Candidate(String uuid, int gpu, int gpuInstanceId, int computeInstanceId) {
    }

    private static final Comparator<Candidate> ON_GPU = Comparator.comparingInt(Candidate::gpu)
            .thenComparingInt(Candidate::gpuInstanceId).thenComparingInt(Candidate::computeInstanceId);

    private final Map<Integer, List<Candidate>> byGpu = new LinkedHashMap<>();
    private final Map<Integer, Integer> leasableOnGpu;

    /**
     * @param free          the leasable MIG devices of the profile asked
     * @param leasableOnGpu per GPU index, its leasable MIG devices of every profile (at least its {@code free} ones;
     *                      a GPU missing counts only those)
     */
    public MigPicker(List<Candidate> free, Map<Integer, Integer> leasableOnGpu) {
        free.stream().sorted(ON_GPU).forEach(c -> byGpu.computeIfAbsent(c.gpu(), k -> new ArrayList<>()).add(c));
        this.leasableOnGpu = new HashMap<>(leasableOnGpu);
    }

    /** The chosen devices in GPU, GPU instance, compute instance order; empty when fewer than {@code n} are free. */
    public Optional<List<Candidate>> pick(int n) {
        int total = byGpu.values().stream().mapToInt(List::size).sum();
        if (n < 1 || n > total) {
            return Optional.empty();
        }
        List<Candidate> chosen = new ArrayList<>(n);
        List<Integer> biggestFirst = byGpu.keySet().stream()
                .sorted(Comparator.<Integer>comparingInt(g -> byGpu.get(g).size()).reversed().thenComparing(packing()))
                .toList();
        int rest = n;
        int k = 0;
        while (byGpu.get(biggestFirst.get(k)).size() < rest) {   // no GPU left holds the rest: take a whole one
            List<Candidate> all = byGpu.get(biggestFirst.get(k));
            chosen.addAll(all);
            rest -= all.size();
            k++;
        }
        int remainder = rest;
        int last = biggestFirst.subList(k, biggestFirst.size()).stream()
                .filter(g -> byGpu.get(g).size() >= remainder)
                .min(packing()).orElseThrow();
        chosen.addAll(byGpu.get(last).subList(0, remainder));
        chosen.sort(ON_GPU);
        return Optional.of(List.copyOf(chosen));
    }

    /** The fullest GPU first: fewest leasable MIG devices of any profile, then of this profile, then lowest index. */
    private Comparator<Integer> packing() {
        return Comparator.<Integer>comparingInt(g -> leasableOnGpu.getOrDefault(g, byGpu.get(g).size()))
                .thenComparingInt(g -> byGpu.get(g).size())
                .thenComparingInt(g -> g);
    }
}
