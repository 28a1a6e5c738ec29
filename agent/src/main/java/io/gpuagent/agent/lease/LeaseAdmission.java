package io.gpuagent.agent.lease;

import io.gpuagent.agent.refusal.Refusal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Which GPUs a lease request gets, decided from the GPUs as placement sees them now and nothing else (no
 * journal, no lock, no clock), as the coordinator's {@code Placer} decides for a cluster: the {@link LeaseBook}
 * holds the state and asks this. A GPU may be leased when it is leasable ({@link GpuStanding#leasable()}) and
 * has the memory asked; {@code uuids} takes exactly those GPUs, {@code gpus: N} the {@link GpuPicker}'s choice.
 * MIG devices the same way ({@link #chooseMig}): {@code uuids} naming {@code MIG-} UUIDs takes exactly those,
 * {@code mig: {profile, count}} the {@link MigPicker}'s choice among the leasable devices of that profile.
 */
final class LeaseAdmission {

    private LeaseAdmission() {
    }

    /**
     * The lease {@code request} gets on a node that stands as {@code node} now: of whole GPUs ({@link #choose}) or
     * of MIG devices ({@link #chooseMig}), as it asks.
     *
     * @throws Refusal.Invalid  the request names devices this node does not have, or more GPUs than it has
     * @throws Refusal.Conflict not now: the detail says which devices stand in the way and why
     */
    static Lease lease(LeaseRequest request, Standings node, String leaseId, Instant now, long fencingToken) {
        if (request.migDevices()) {
            return Lease.ofMig(leaseId, request.jobId(), chooseMig(request, node.mig()), now, request.ttl(), fencingToken);
        }
        return Lease.of(leaseId, request.jobId(), choose(request, node.gpus(), node.topology()), now, request.ttl(),
                fencingToken);
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

    /**
     * The MIG devices to grant, in GPU, GPU instance, compute instance order, for a request that asks for MIG
     * devices ({@link LeaseRequest#migDevices()}).
     *
     * @throws Refusal.Invalid  {@code uuids} names MIG devices this node does not have
     * @throws Refusal.Conflict not now, or not with this node's MIG layout: the detail says which devices stand
     *                          in the way and why, and which profiles the node has
     */
    static List<MigStanding> chooseMig(LeaseRequest request, List<MigStanding> devices) {
        return request.uuids() != null ? namedMig(request, devices) : countedMig(request, devices);
    }

    private static List<MigStanding> namedMig(LeaseRequest request, List<MigStanding> devices) {
        Map<String, MigStanding> byUuid = new HashMap<>();
        devices.forEach(d -> byUuid.put(d.uuid(), d));
        List<String> unknown = request.uuids().stream().filter(u -> !byUuid.containsKey(u)).toList();
        if (!unknown.isEmpty()) {
            throw new Refusal.Invalid("\"uuids\": " + unknown + (unknown.size() == 1 ? " is" : " are")
                    + " not a MIG device of this node; GET /v1/inventory lists them (\"mig\")");
        }
        List<MigStanding> chosen = devices.stream().filter(d -> request.uuids().contains(d.uuid())).toList();
        List<String> why = new ArrayList<>();
        chosen.forEach(d -> whyNot(d, request).ifPresent(why::add));
        if (!why.isEmpty()) {
            throw new Refusal.Conflict(chosen.size() + " MIG device(s) asked by UUID, not all can be leased: "
                    + String.join(", ", why));
        }
        return chosen;
    }

    private static List<MigStanding> countedMig(LeaseRequest request, List<MigStanding> devices) {
        String profile = request.mig().profile();
        int n = request.mig().count();
        List<MigStanding> ofProfile = devices.stream().filter(d -> d.device().profile().equals(profile)).toList();
        if (ofProfile.isEmpty()) {
            throw new Refusal.Conflict(n + " MIG device(s) of profile " + profile + " asked, this node has none: "
                    + layout(devices) + "; the MIG layout is the operator's (nvidia-mig-parted)");
        }
        List<MigStanding> free = new ArrayList<>();
        List<String> why = new ArrayList<>();
        for (MigStanding d : ofProfile) {
            Optional<String> not = whyNot(d, request);
            if (not.isPresent()) {
                why.add(not.get());
            } else {
                free.add(d);
            }
        }
        Map<Integer, Integer> leasableOnGpu = new HashMap<>();
        devices.stream().filter(MigStanding::leasable).forEach(d -> leasableOnGpu.merge(d.device().gpuIndex(), 1, Integer::sum));
        Map<String, MigStanding> byUuid = new HashMap<>();
        free.forEach(d -> byUuid.put(d.uuid(), d));
        Optional<List<MigPicker.Candidate>> pick = new MigPicker(free.stream().map(LeaseAdmission::candidate).toList(),
                leasableOnGpu).pick(n);
        if (pick.isEmpty()) {
            String detail = n + " MIG device(s) of profile " + profile + " asked, " + free.size() + " leasable";
            if (ofProfile.size() < n) {
                detail += " (this node has " + ofProfile.size() + " of that profile: " + layout(devices) + ")";
            }
            throw new Refusal.Conflict(detail + (why.isEmpty() ? "" : ": " + String.join(", ", why)));
        }
        return pick.get().stream().map(c -> byUuid.get(c.uuid())).toList();
    }

    static MigPicker.Candidate candidate(MigStanding d) {
        return new MigPicker.Candidate(d.uuid(), d.device().gpuIndex(), d.device().gpuInstanceId(),
                d.device().computeInstanceId());
    }

    /** "1g.10gb x3, 3g.40gb x1", or what to do when there is no MIG device at all. */
    private static String layout(List<MigStanding> devices) {
        if (devices.isEmpty()) {
            return "no MIG devices (no GPU in MIG mode, or no instances created)";
        }
        Map<String, Integer> count = new TreeMap<>();
        devices.forEach(d -> count.merge(d.device().profile(), 1, Integer::sum));
        return count.entrySet().stream().map(e -> e.getKey() + " x" + e.getValue()).collect(Collectors.joining(", "));
    }

    private static Optional<String> whyNot(MigStanding d, LeaseRequest request) {
        if (!d.leasable()) {
            return Optional.of(d.unavailable());
        }
        if (request.minMemory() > 0) {
            if (d.memoryFreeMiB() == null) {
                return Optional.of(d.label() + " has no memory reading (" + request.minMemory() + " MiB asked)");
            }
            if (d.memoryFreeMiB() < request.minMemory()) {
                return Optional.of(d.label() + " has " + d.memoryFreeMiB() + " MiB free, " + request.minMemory()
                        + " MiB asked");
            }
        }
        return Optional.empty();
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
