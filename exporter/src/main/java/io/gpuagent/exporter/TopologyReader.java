package io.gpuagent.exporter;

import io.gpuagent.nvml.GpuDevice;
import io.gpuagent.nvml.NvmlException;
import io.gpuagent.nvml.P2pCapability;
import io.gpuagent.nvml.P2pStatus;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Reads a {@link Topology} for a set of GPUs: per pair {@code nvmlDeviceGetTopologyCommonAncestor} and
 * {@code nvmlDeviceGetP2PStatus(NVLINK)}, per GPU the remote end of each active NVLink
 * ({@code nvmlDeviceGetNvLinkRemotePciInfo_v2}). A call that fails leaves its part unknown (-1, or NVLink
 * judged from the link ends) and is counted in {@code gpu_agent_nvml_errors_total}.
 */
final class TopologyReader {

    /** One readable GPU: its handle and bus id. */
    record Gpu(String uuid, String pciBusId, GpuDevice device) {
    }

    private final AgentMeters meters;

    TopologyReader(AgentMeters meters) {
        this.meters = meters;
    }

    /** The pairs of {@code gpus} (given in index order). */
    Topology read(List<Gpu> gpus) {
        List<List<String>> ends = new ArrayList<>(gpus.size());
        Set<String> gpuBuses = new HashSet<>();
        for (Gpu g : gpus) {
            ends.add(activeLinkEnds(g.device()));
            gpuBuses.add(norm(g.pciBusId()));
        }
        List<Topology.Pair> pairs = new ArrayList<>();
        for (int i = 0; i < gpus.size(); i++) {
            for (int j = i + 1; j < gpus.size(); j++) {
                Gpu a = gpus.get(i);
                Gpu b = gpus.get(j);
                int count = nvlinkCount(ends.get(i), norm(b.pciBusId()), new HashSet<>(ends.get(j)), gpuBuses);
                pairs.add(new Topology.Pair(a.uuid(), b.uuid(), ancestor(a.device(), b.device()),
                        nvlink(a.device(), b.device(), count), count));
            }
        }
        return new Topology(pairs);
    }

    private int ancestor(GpuDevice a, GpuDevice b) {
        try {
            return a.topologyCommonAncestor(b);
        } catch (NvmlException e) {
            meters.nvmlError(e);
            return -1;
        }
    }

    private boolean nvlink(GpuDevice a, GpuDevice b, int count) {
        try {
            return a.p2pStatus(b, P2pCapability.NVLINK) == P2pStatus.OK;
        } catch (NvmlException e) {
            meters.nvmlError(e);
            return count > 0;
        }
    }

    /** Links of {@code a} that end at b's bus id, or at a non-GPU end (an NVSwitch) that b also reaches. */
    private static int nvlinkCount(List<String> aEnds, String bBus, Set<String> bEnds, Set<String> gpuBuses) {
        int n = 0;
        for (String end : aEnds) {
            if (end.equals(bBus) || (!gpuBuses.contains(end) && bEnds.contains(end))) {
                n++;
            }
        }
        return n;
    }

    /** The remote bus id of each active link, one entry per link (repeats kept: two links to one switch count twice). */
    private List<String> activeLinkEnds(GpuDevice device) {
        List<String> out = new ArrayList<>();
        int links;
        try {
            links = device.nvLinkCount();
        } catch (NvmlException e) {
            meters.nvmlError(e);
            return out;
        }
        for (int l = 0; l < links; l++) {
            try {
                if (device.nvLinkActive(l)) {
                    out.add(norm(device.nvLinkRemotePciInfo(l).busId()));
                }
            } catch (NvmlException e) {
                meters.nvmlError(e);
            }
        }
        return out;
    }

    private static String norm(String busId) {
        return busId == null ? "" : busId.strip().toUpperCase(Locale.ROOT);
    }
}
