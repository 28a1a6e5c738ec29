package io.gpuagent.agent.lease;

import io.gpuagent.agent.refusal.Refusal;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Which GPUs a lease request gets, decided from the GPUs as placement sees them now and nothing else (no
 * journal, no lock, no clock), as the coordinator's {@code Placer} decides for a cluster: the {@link LeaseBook}
 * holds the state and asks this. A GPU may be leased when it is leasable ({@link GpuStanding#leasable()}) and
 * has the memory asked; {@code uuids} takes exactly those GPUs, {@code gpus: N} the {@link GpuPicker}'s choice.
 */
final class LeaseAdmission {

    private LeaseAdmission() {
    }

    /**
     * The GPUs to grant, in index order.
     *
     * @throws Refusal.Invalid  the request names GPUs this node does not have, or more than it has
     * @throws Refusal.Conflict not now: the detail says which GPUs stand in the way and why
     */
    static List<GpuStanding> choose(LeaseRequest request, List<GpuStanding> gpus, NodeTopology topology) {
        return request.uuids() != null ? named(request, gpus, topology) : counted(request, gpus, topology);
    }

    /** {@code uuids}: exactly those GPUs, each of which must be leasable now. */
    private static List<GpuStanding> named(LeaseRequest request, List<GpuStanding> gpus, NodeTopology topology) {
        Map<String, GpuStanding> byUuid = new HashMap<>();
        gpus.forEach(g -> byUuid.put(g.uuid(), g));
        List<String> unknown = request.uuids().stream().filter(u -> !byUuid.containsKey(u)).toList();
        if (!unknown.isEmpty()) {
            throw new Refusal.Invalid("\"uuids\": " + unknown + (unknown.size() == 1 ? " is" : " are")
                    + " not a GPU of this node; GET /v1/inventory lists them");
        }
        List<GpuStanding> chosen = request.uuids().stream().map(byUuid::get)
                .sorted((a, b) -> Integer.compare(a.index(), b.index())).toList();
        List<String> why = new ArrayList<>();
        for (GpuStanding g : chosen) {
            whyNot(g, request).ifPresent(why::add);
        }
        if (request.nvlinkRequired()) {
            for (int i = 0; i < chosen.size(); i++) {
                for (int j = i + 1; j < chosen.size(); j++) {
                    if (!topology.nvlink(chosen.get(i).index(), chosen.get(j).index())) {
                        why.add("GPUs " + chosen.get(i).index() + " and " + chosen.get(j).index()
                                + " are not NVLink-connected");
                    }
                }
            }
        }
        if (!why.isEmpty()) {
            throw new Refusal.Conflict(chosen.size() + " GPU(s) asked by UUID, not all can be leased: "
                    + String.join(", ", why));
        }
        return chosen;
    }

    /** {@code gpus: N}: the picker's choice among the leasable GPUs. */
    private static List<GpuStanding> counted(LeaseRequest request, List<GpuStanding> gpus, NodeTopology topology) {
        int n = request.gpus();
        if (n > gpus.size()) {
            throw new Refusal.Invalid("\"gpus\": " + n + " asked, this node has " + gpus.size()
                    + " GPU(s)");
        }
        List<GpuStanding> free = new ArrayList<>();
        List<String> why = new ArrayList<>();
        for (GpuStanding g : gpus) {
            Optional<String> not = whyNot(g, request);
            if (not.isPresent()) {
                why.add(not.get());
            } else {
                free.add(g);
            }
        }
        Optional<List<Integer>> pick = new GpuPicker(free.stream().map(GpuStanding::index).toList(), topology)
                .pick(n, request.nvlinkRequired());
        if (pick.isEmpty()) {
            String detail = n + " GPU(s) asked, " + free.size() + " leasable";
            if (free.size() >= n) {
                detail += " but no " + n + " of them are pairwise NVLink-connected";
            }
            throw new Refusal.Conflict(detail + (why.isEmpty() ? "" : ": " + String.join(", ", why)));
        }
        return pick.get().stream().map(i -> free.stream().filter(g -> g.index() == i).findFirst().orElseThrow()).toList();
    }

    private static Optional<String> whyNot(GpuStanding g, LeaseRequest request) {
        if (!g.leasable()) {
            return Optional.of(g.unavailable());
        }
        if (request.minMemory() > 0) {
            if (g.memoryFreeMiB() == null) {
                return Optional.of("GPU " + g.index() + " has no memory reading (" + request.minMemory() + " MiB asked)");
            }
            if (g.memoryFreeMiB() < request.minMemory()) {
                return Optional.of("GPU " + g.index() + " has " + g.memoryFreeMiB() + " MiB free, "
                        + request.minMemory() + " MiB asked");
            }
        }
        return Optional.empty();
    }
}
