package io.gpuagent.agent.health.detect;

import io.gpuagent.exporter.GpuSample;
import io.gpuagent.exporter.GpuStatus;
import io.gpuagent.exporter.Reading;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;

/**
 * The NVLink fabric as the node sees it (docs/node-health.md#nvlink-fabric): on NVSwitch systems every GPU's fabric
 * probe completed without error, healthy and at full bandwidth ({@code nvmlDeviceGetGpuFabricInfoV}: a GPU whose
 * Fabric Manager never registered it cannot use NVLink at all); every GPU has the expected number of
 * active NVLink links ({@code gpu-agent.health.nvlink.expected-links}, or learned at the first healthy start). A
 * GPU that never had its links (a link down since boot) is missed by the NVLink detector, which only sees links go
 * down under its eyes; this compares with what the node should have.
 */
public record FabricDetector() implements Detector {

    @Override
    public String name() {
        return "fabric";
    }

    @Override
    public List<NodeFinding> evaluateNode(NodeSample node, Instant now) {
        if (!node.snapshot().nvmlUp()) {
            return List.of();
        }
        List<NodeFinding> out = new ArrayList<>(0);
        boolean inFabric = false;
        for (GpuSample g : node.snapshot().gpus()) {
            if (g.status() == GpuStatus.OK && g.info().known()) {
                inFabric |= g.value(Reading.FABRIC_STATE).isPresent();
                fabric(g, out);
            }
        }
        if (inFabric && node.host().read() && node.host().fabricManagerRunning().equals(java.util.Optional.of(false))) {
            out.add(new NodeFinding(NodeCheck.NVLINK_FABRIC, Subject.NODE, Finding.unhealthy(name(),
                    "FABRIC_MANAGER_NOT_RUNNING", "the Fabric Manager (nvidia-fabricmanager) is installed but not running on"
                            + " an NVSwitch system: GPUs cannot join or rejoin the NVLink fabric",
                    "systemctl start nvidia-fabricmanager; journalctl -u nvidia-fabricmanager for why it stopped (its version"
                            + " must match the driver's)", RepairAction.INSPECT_HARDWARE)));
        }
        if (node.expectedNvLinks().isEmpty()) {
            return out;
        }
        int expected = node.expectedNvLinks().getAsInt();
        if (expected > 0) {
            p2p(node.snapshot(), out);
        }
        for (GpuSample g : node.snapshot().gpus()) {
            OptionalDouble links = g.value(Reading.NVLINK_LINKS);
            if (g.status() != GpuStatus.OK || !g.info().known() || links.isEmpty() || links.getAsDouble() >= expected) {
                continue;
            }
            out.add(new NodeFinding(NodeCheck.NVLINK_LINKS, Subject.gpu(g.uuid()), Finding.unhealthy(name(),
                    "NVLINK_LINKS_MISSING", "GPU " + g.index() + " (" + g.uuid() + ") has " + (long) links.getAsDouble()
                            + " of " + expected + " expected NVLink links active: peer-to-peer traffic is slow or fails",
                    "check nvidia-smi nvlink --status -i " + g.index() + " and the Fabric Manager (systemctl status "
                            + "nvidia-fabricmanager); reset the GPU or reboot; reseat the board if links stay down",
                    RepairAction.INSPECT_HARDWARE)));
        }
        return out;
    }

    /** The fabric probe's state, status and health (absent readings: a GPU outside a fabric, nothing to judge). */
    private void fabric(GpuSample g, List<NodeFinding> out) {
        OptionalDouble state = g.value(Reading.FABRIC_STATE);
        if (state.isEmpty()) {
            return;
        }
        Subject gpu = Subject.gpu(g.uuid());
        String which = "GPU " + g.index() + " (" + g.uuid() + ")";
        String fm = "check the Fabric Manager (systemctl status nvidia-fabricmanager; journalctl -u nvidia-fabricmanager)"
                + " and nvidia-smi -q -d FABRIC";
        int s = (int) state.getAsDouble();
        if (s == 1) {
            out.add(new NodeFinding(NodeCheck.NVLINK_FABRIC, gpu, Finding.unhealthy(name(), "FABRIC_NOT_STARTED",
                    which + " has not joined its NVLink fabric (probe not started): it has no NVLink peer-to-peer",
                    "start the Fabric Manager and reset the GPU or reboot; " + fm, RepairAction.INSPECT_HARDWARE)));
            return;
        }
        if (s == 2) {
            out.add(new NodeFinding(NodeCheck.NVLINK_FABRIC, gpu, Finding.degraded(name(), "FABRIC_IN_PROGRESS",
                    which + " is still joining its NVLink fabric (probe in progress)", "wait for the Fabric Manager to"
                            + " finish training; if it stays so, " + fm)));
            return;
        }
        double status = g.valueOr(Reading.FABRIC_STATUS, 0);
        if (status != 0) {
            out.add(new NodeFinding(NodeCheck.NVLINK_FABRIC, gpu, Finding.unhealthy(name(), "FABRIC_FAILED",
                    which + "'s NVLink fabric probe completed with error " + (long) status + ": no NVLink peer-to-peer",
                    "reset the GPU or reboot once the Fabric Manager is healthy; " + fm, RepairAction.INSPECT_HARDWARE)));
            return;
        }
        double summary = g.valueOr(Reading.FABRIC_HEALTH_SUMMARY, 0);
        boolean degradedBw = (((long) g.valueOr(Reading.FABRIC_HEALTH_MASK, 0)) & 0x3) == 1;
        if (summary == 2) {
            out.add(new NodeFinding(NodeCheck.NVLINK_FABRIC, gpu, Finding.unhealthy(name(), "FABRIC_UNHEALTHY",
                    which + "'s NVLink fabric reports itself unhealthy (health summary)", fm + "; reset the GPU or reboot",
                    RepairAction.INSPECT_HARDWARE)));
        } else if (summary == 3 || degradedBw) {
            out.add(new NodeFinding(NodeCheck.NVLINK_FABRIC, gpu, Finding.degraded(name(), "FABRIC_DEGRADED_BANDWIDTH",
                    which + "'s NVLink fabric runs at limited capacity (degraded bandwidth)", fm
                            + "; a link or NVSwitch port is down: reseat or service it at the next window")));
        }
    }

    /**
     * The P2P matrix of an NVLink node (links expected): every pair of GPUs the topology read should have NVLink
     * peer-to-peer ({@code nvmlDeviceGetP2PStatus} NVLINK). One reason for the node, naming the GPUs that reach no
     * peer over NVLink (the likely culprits) or else the first pairs, so 64 GPUs do not make 2,016 reasons.
     */
    private void p2p(io.gpuagent.exporter.Snapshot snapshot, List<NodeFinding> out) {
        List<io.gpuagent.exporter.Topology.Pair> pairs = snapshot.topology().pairs();
        java.util.Map<String, Integer> missing = new java.util.TreeMap<>();
        java.util.Map<String, Integer> peers = new java.util.HashMap<>();
        List<String> broken = new ArrayList<>(0);
        for (io.gpuagent.exporter.Topology.Pair p : pairs) {
            peers.merge(p.a(), 1, Integer::sum);
            peers.merge(p.b(), 1, Integer::sum);
            if (!p.nvlink()) {
                missing.merge(p.a(), 1, Integer::sum);
                missing.merge(p.b(), 1, Integer::sum);
                broken.add(p.a() + "/" + p.b());
            }
        }
        if (broken.isEmpty()) {
            return;
        }
        List<String> alone = missing.entrySet().stream().filter(e -> e.getValue().equals(peers.get(e.getKey())))
                .map(java.util.Map.Entry::getKey).toList();
        String who = !alone.isEmpty() ? "GPU(s) " + String.join(", ", alone) + " reach no peer over NVLink"
                : "e.g. " + String.join(", ", broken.subList(0, Math.min(4, broken.size())));
        out.add(new NodeFinding(NodeCheck.NVLINK_P2P, Subject.NODE, Finding.unhealthy(name(), "P2P_NVLINK_MISSING",
                broken.size() + " of " + pairs.size() + " GPU pairs have no NVLink peer-to-peer on this NVLink node; " + who,
                "nvidia-smi topo -p2p n; check the Fabric Manager and the links of the GPUs named; reset them or reboot",
                RepairAction.INSPECT_HARDWARE)));
    }
}
