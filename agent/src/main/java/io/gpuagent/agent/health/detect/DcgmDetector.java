package io.gpuagent.agent.health.detect;

import io.gpuagent.exporter.DcgmErrors;
import io.gpuagent.exporter.DcgmIncident;
import io.gpuagent.exporter.DcgmViolation;
import io.gpuagent.exporter.GpuSample;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * DCGM's own verdicts ({@code gpu-agent.dcgm.mode} on, docs/faults.md#dcgm): the incidents of its health watches
 * ({@code dcgmHealthCheck}, every sweep) and its policy violations (queued by DCGM's callback, drained by the
 * sampler's DCGM thread), both carried in the sample ({@link GpuSample#dcgm()}). Codes name the {@code DCGM_FR_*}
 * error or the policy condition.
 *
 * <ul>
 *   <li>a FAIL incident: UNHEALTHY while DCGM reports it, code {@code DCGM_FR_<name>}; a WARN incident: DEGRADED;</li>
 *   <li>a DBE or MAX_PAGES_RETIRED violation: UNHEALTHY and sticky ({@code DCGM_POLICY_DBE}, ...): memory DCGM
 *       saw fail stays suspect until a reset and its verification;</li>
 *   <li>a THERMAL, POWER, PCI or NVLINK violation: DEGRADED; an XID violation: DEGRADED, for the XID detector
 *       judges the same XID from the driver's event.</li>
 * </ul>
 */
public record DcgmDetector() implements Detector {
    @Override
    public String name() {
        return "dcgm";
    }

    @Override
    public List<Finding> evaluate(String gpu, GpuSample sample, Instant now) {
        List<DcgmIncident> incidents = sample.dcgm().incidents();
        List<DcgmViolation> violations = sample.dcgm().violations();
        if (incidents.isEmpty() && violations.isEmpty()) {
            return List.of();
        }
        List<Finding> out = new ArrayList<>(incidents.size() + violations.size());
        for (DcgmIncident i : incidents) {
            String code = errorName(i.code());
            String message = "DCGM health watch " + i.watch() + " reports " + (i.failed() ? "FAIL" : "WARN") + " "
                    + code + ": " + i.message();
            RepairAction action = actionFor(i.watch());
            String what = action == RepairAction.INSPECT_HARDWARE ? "have the GPU's " + i.watch() + " checked (dcgmi "
                    + "health -c, dcgmi diag -r 2)" : "drain the GPU and reset it; dcgmi health -c shows DCGM's view";
            out.add(i.failed() ? Finding.unhealthy(name(), code, message, what, action)
                    : Finding.degraded(name(), code, message, what, action));
        }
        for (DcgmViolation v : violations) {
            String code = "DCGM_POLICY_" + v.condition();
            String message = "DCGM policy violation " + v.condition() + " (value " + v.value() + ")";
            out.add(switch (v.condition()) {
                case "DBE", "MAX_PAGES_RETIRED" -> Finding.unhealthy(name(), code, message,
                        "drain the GPU and reset it (retires the pages)", RepairAction.DRAIN_AND_RESET).asSticky();
                case "XID" -> Finding.degraded(name(), code, message + "; the xid detector judges the XID itself",
                        "see the xid reason of this GPU");
                default -> Finding.degraded(name(), code, message, "check cooling, power and links of this GPU",
                        RepairAction.INSPECT_HARDWARE);
            });
        }
        return out;
    }

    /** The {@code DCGM_FR_*} name of an error code; {@code DCGM_FR_<n>} for one the 4.6.0 header does not list. */
    public static String errorName(int code) {
        return DcgmErrors.name(code);
    }

    private static RepairAction actionFor(String watch) {
        return switch (watch) {
            case "PCIE", "NVLINK", "THERMAL", "POWER" -> RepairAction.INSPECT_HARDWARE;
            case "DRIVER" -> RepairAction.REBOOT;
            default -> RepairAction.DRAIN_AND_RESET;   // MEM, SM, PMU, MCU, INFOROM
        };
    }
}
