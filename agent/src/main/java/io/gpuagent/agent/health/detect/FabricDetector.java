package io.gpuagent.agent.health.detect;

import io.gpuagent.exporter.GpuSample;
import io.gpuagent.exporter.GpuStatus;
import io.gpuagent.exporter.Reading;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;

/**
 * The NVLink fabric as the node sees it (docs/node-health.md#nvlink-fabric): every GPU has the expected number of
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
        if (node.expectedNvLinks().isEmpty() || !node.snapshot().nvmlUp()) {
            return List.of();
        }
        int expected = node.expectedNvLinks().getAsInt();
        List<NodeFinding> out = new ArrayList<>(0);
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
}
