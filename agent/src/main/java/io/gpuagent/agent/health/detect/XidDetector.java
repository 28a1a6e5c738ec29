package io.gpuagent.agent.health.detect;

import static io.gpuagent.agent.health.detect.RepairAction.CHECK_APPLICATION;
import static io.gpuagent.agent.health.detect.RepairAction.DRAIN_AND_RESET;
import static io.gpuagent.agent.health.detect.RepairAction.INSPECT_HARDWARE;
import static io.gpuagent.agent.health.detect.RepairAction.REBOOT;
import static io.gpuagent.agent.health.detect.RepairAction.RESET_GPU;

import io.gpuagent.nvml.GpuEvent;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * XID critical-error events, judged by the class table of docs/faults.md#xid-classes (overridable per code). Fatal and lost XIDs
 * are sticky; warnings degrade the GPU for the hysteresis window after the last one. Every XID counts,
 * repeats included: the repeat of an XID whose action says so escalates (48: inspect the hardware; 119/120:
 * reboot). On a GPU in MIG mode the scope table (docs/faults.md#mig) says whether an XID that names a GPU
 * instance stays on that instance; the health engine routes it, this detector judges it on whatever device
 * it is given.
 */
public final class XidDetector implements Detector {

    /** What docs/faults.md#xid-classes says about one XID. */
    record Entry(String meaning, XidClass xidClass, String action, List<RepairAction> actions,
                 List<RepairAction> ifRepeated) {
    }

    private static final String APP = "check the application; no GPU action";
    private static final String RESET = "drain the GPU and reset it";
    private static final Map<Integer, Entry> TABLE = new HashMap<>();

    static {
        for (int code : new int[] {13, 31, 43, 45}) {
            TABLE.put(code, new Entry(switch (code) {
                case 13 -> "graphics engine exception";
                case 31 -> "GPU memory page fault";
                case 43 -> "GPU stopped processing";
                default -> "preemptive cleanup, due to previous errors";
            }, XidClass.WARNING, APP, List.of(CHECK_APPLICATION), List.of()));
        }
        fatal(46, "GPU timeout", RESET);
        TABLE.put(48, new Entry("double-bit ECC error", XidClass.FATAL, RESET + "; inspect the hardware if it repeats",
                List.of(DRAIN_AND_RESET), List.of(INSPECT_HARDWARE)));
        fatal(61, "internal micro-controller breakpoint/warning", RESET);
        fatal(62, "internal micro-controller halt", RESET);
        TABLE.put(63, new Entry("row remap / page retirement recorded", XidClass.WARNING,
                "reset the GPU at the next idle moment to apply it", List.of(RESET_GPU), List.of()));
        TABLE.put(64, new Entry("row remap / page retirement failure", XidClass.FATAL,
                RESET + "; inspect the hardware", List.of(DRAIN_AND_RESET, INSPECT_HARDWARE), List.of()));
        fatal(74, "NVLink error", RESET + " (and its peers on the link)");
        TABLE.put(79, new Entry("GPU has fallen off the bus", XidClass.LOST, "drain the node and reboot it",
                List.of(REBOOT), List.of()));
        TABLE.put(92, new Entry("high single-bit ECC error rate", XidClass.WARNING, "watch the corrected ECC rate",
                List.of(), List.of()));
        TABLE.put(94, new Entry("contained ECC error", XidClass.WARNING, "restart the application",
                List.of(CHECK_APPLICATION), List.of()));
        fatal(95, "uncontained ECC error", RESET);
        fatal(109, "context-switch timeout", RESET);
        for (int code : new int[] {119, 120}) {
            TABLE.put(code, new Entry(code == 119 ? "GSP RPC timeout" : "GSP error", XidClass.FATAL,
                    RESET + "; reboot if it repeats", List.of(DRAIN_AND_RESET), List.of(REBOOT)));
        }
        fatal(140, "unrecovered ECC error", RESET);
        TABLE.put(143, new Entry("GPU initialization failure", XidClass.FATAL, "reboot the node; inspect the hardware",
                List.of(REBOOT, INSPECT_HARDWARE), List.of()));
    }

    /**
     * XIDs that the driver attributes to the context that raised them, so that on a GPU in MIG mode they hit
     * the MIG device the event names and nothing else: the application errors (13, 31, 43, 45, 68: video
     * decoder, which a GPU instance owns) and the contained ECC error (94: error containment ends the one
     * application that touched the bad memory, the others run on). Every other XID, 48, 63/64, 74, 79, 92, 95,
     * 119/120 and unknown codes included, is the physical GPU's. docs/faults.md#mig gives the sources.
     */
    private static final Set<Integer> INSTANCE_SCOPED = Set.of(13, 31, 43, 45, 68, 94);

    private static void fatal(int code, String meaning, String action) {
        TABLE.put(code, new Entry(meaning, XidClass.FATAL, action, List.of(DRAIN_AND_RESET), List.of()));
    }

    private final Map<Integer, XidClass> overrides;
    private final Map<Integer, XidScope> scopes;
    private final Map<String, Map<Integer, Integer>> seen = new HashMap<>();   // gpu -> xid -> occurrences

    public XidDetector(Map<Integer, XidClass> overrides) {
        this(overrides, Map.of());
    }

    public XidDetector(Map<Integer, XidClass> overrides, Map<Integer, XidScope> scopes) {
        this.overrides = Map.copyOf(overrides);
        this.scopes = Map.copyOf(scopes);
    }

    /** From {@code gpu-agent.health.xid-class.<code>} entries; a key that is not a number is a startup error. */
    public static XidDetector withOverrides(Map<String, XidClass> byKey) {
        return withOverrides(byKey, Map.of());
    }

    /**
     * From {@code gpu-agent.health.xid-class.<code>} and {@code gpu-agent.health.xid-scope.<code>} entries; a
     * key that is not a number is a startup error.
     */
    public static XidDetector withOverrides(Map<String, XidClass> classes, Map<String, XidScope> scopes) {
        return new XidDetector(byCode(classes, "xid-class", "fatal"), byCode(scopes, "xid-scope", "gpu"));
    }

    private static <V> Map<Integer, V> byCode(Map<String, V> byKey, String setting, String example) {
        Map<Integer, V> parsed = new HashMap<>();
        byKey.forEach((k, v) -> {
            try {
                parsed.put(Integer.parseInt(k.strip()), v);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("gpu-agent.health." + setting + "." + k
                        + ": the key must be an XID number, e.g. gpu-agent.health." + setting + ".13=" + example);
            }
        });
        return parsed;
    }

    @Override
    public String name() {
        return "xid";
    }

    /** The class of {@code xid}: the configured override, else the table (docs/faults.md#xid-classes), else warning. */
    public XidClass classOf(int xid) {
        XidClass c = overrides.get(xid);
        return c != null ? c : TABLE.containsKey(xid) ? TABLE.get(xid).xidClass() : XidClass.WARNING;
    }

    /**
     * Where {@code xid} lands on a GPU in MIG mode: the configured override, else the table
     * (docs/faults.md#mig). A lost-class XID is always the GPU's: a GPU instance cannot fall off the bus alone.
     */
    public XidScope scopeOf(int xid) {
        if (classOf(xid) == XidClass.LOST) {
            return XidScope.GPU;
        }
        XidScope s = scopes.get(xid);
        return s != null ? s : INSTANCE_SCOPED.contains(xid) ? XidScope.INSTANCE : XidScope.GPU;
    }

    /** A short meaning for messages ({@code "GPU has fallen off the bus"}); "unknown XID" when not in the table. */
    public static String meaning(int xid) {
        Entry e = TABLE.get(xid);
        return e != null ? e.meaning() : "unknown XID";
    }

    @Override
    public List<Finding> onEvent(String gpu, GpuEvent event, Instant now) {
        if (!event.isXid()) {
            return List.of();
        }
        int xid = (int) event.eventData();
        int occurrences = seen.computeIfAbsent(gpu, k -> new HashMap<>()).merge(xid, 1, Integer::sum);
        XidClass xidClass = classOf(xid);
        if (xidClass == XidClass.IGNORE) {
            return List.of();
        }
        Entry e = TABLE.get(xid);
        String action;
        List<RepairAction> actions = new ArrayList<>();
        if (e != null) {
            action = e.action();
            actions.addAll(e.actions());
            if (occurrences > 1) {
                actions.addAll(e.ifRepeated());
            }
        } else {
            action = xidClass == XidClass.WARNING ? "recorded and counted; alert if it repeats" : RESET;
            if (xidClass != XidClass.WARNING) {
                actions.add(DRAIN_AND_RESET);
            }
        }
        if (xidClass == XidClass.LOST && !actions.contains(REBOOT)) {
            actions.add(REBOOT);
        }
        HealthState state = switch (xidClass) {
            case WARNING -> HealthState.DEGRADED;
            case LOST -> HealthState.LOST;
            default -> HealthState.UNHEALTHY;
        };
        String message = "XID " + xid + " (" + meaning(xid) + "), classed " + xidClass.name().toLowerCase()
                + (occurrences > 1 ? ", " + occurrences + " times on this device" : "");
        return List.of(new Finding(name(), "XID_" + xid, state, xidClass != XidClass.WARNING, message, action,
                actions.stream().distinct().sorted().toList()));
    }

    @Override
    public void forget(String gpu) {
        seen.remove(gpu);
    }
}
