package io.gpuagent.agent.health.detect;

import io.gpuagent.agent.host.IbPort;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.Set;

/**
 * InfiniBand and RoCE ports from sysfs (docs/node-health.md#infiniband): fewer ports than expected, a port not
 * ACTIVE/LinkUp, a port at another rate than expected, a port that went down {@code flapLimit} times within
 * {@code flapWindow} (counted from {@code link_downed}, else from the downs this detector saw), and error
 * counters growing faster than their limits. History per port, keyed by its {@link Subject}.
 *
 * @param errorsPerMinute limit per counter name ({@code symbol_error}, {@code port_rcv_errors},
 *                        {@code link_error_recovery}); a counter without a limit is not judged
 */
public final class InfinibandDetector implements Detector {

    private final OptionalInt expectedPorts;
    private final OptionalDouble expectedRateGbps;
    private final Duration flapWindow;
    private final int flapLimit;
    private final Duration rateWindow;
    private final Map<String, Double> errorsPerMinute;
    private final Map<String, PortHistory> history = new HashMap<>();

    private static final class PortHistory {
        final RateWindow downed;
        final ArrayDeque<Instant> seenDown = new ArrayDeque<>();
        final Map<String, RateWindow> errors = new HashMap<>();
        boolean wasUp = true;

        PortHistory(Duration flapWindow) {
            downed = new RateWindow(flapWindow);
        }
    }

    public InfinibandDetector(OptionalInt expectedPorts, OptionalDouble expectedRateGbps, Duration flapWindow,
                              int flapLimit, Duration rateWindow, Map<String, Double> errorsPerMinute) {
        this.expectedPorts = expectedPorts;
        this.expectedRateGbps = expectedRateGbps;
        this.flapWindow = flapWindow;
        this.flapLimit = flapLimit;
        this.rateWindow = rateWindow;
        this.errorsPerMinute = Map.copyOf(errorsPerMinute);
    }

    @Override
    public String name() {
        return "infiniband";
    }

    @Override
    public List<NodeFinding> evaluateNode(NodeSample node, Instant now) {
        if (!node.host().read()) {
            return List.of();
        }
        List<IbPort> ports = node.host().ibPorts();
        List<NodeFinding> out = new ArrayList<>(0);
        if (expectedPorts.isPresent() && ports.size() < expectedPorts.getAsInt()) {
            out.add(new NodeFinding(NodeCheck.IB_PORTS, Subject.NODE, Finding.unhealthy(name(), "IB_PORT_MISSING",
                    "sysfs lists " + ports.size() + " of " + expectedPorts.getAsInt() + " expected InfiniBand/RoCE ports",
                    "check the HCAs (ibstat, lspci, dmesg for mlx5 errors) and the driver (OFED/DOCA); reboot if an HCA"
                            + " is gone", RepairAction.INSPECT_HARDWARE)));
        }
        Set<String> present = new HashSet<>();
        for (IbPort p : ports) {
            Subject subject = Subject.ibPort(p.device(), p.port());
            present.add(subject.key());
            PortHistory h = history.computeIfAbsent(subject.key(), k -> new PortHistory(flapWindow));
            judge(p, subject, h, now, out);
        }
        history.keySet().retainAll(present);
        return out;
    }

    private void judge(IbPort p, Subject subject, PortHistory h, Instant now, List<NodeFinding> out) {
        boolean up = p.up();
        if (!up) {
            out.add(new NodeFinding(NodeCheck.IB_PORTS, subject, Finding.unhealthy(name(), "IB_PORT_DOWN",
                    "port " + p.name() + " (" + p.linkLayer() + ") is " + p.state() + "/" + p.physState()
                            + ", not ACTIVE/LinkUp", "check the cable, the switch port and the subnet manager (ibstat "
                            + p.device() + " " + p.port() + ", iblinkinfo)", RepairAction.INSPECT_HARDWARE)));
        } else if (expectedRateGbps.isPresent() && p.rateGbps().isPresent()
                && p.rateGbps().getAsDouble() != expectedRateGbps.getAsDouble()) {
            out.add(new NodeFinding(NodeCheck.IB_RATE, subject, Finding.degraded(name(), "IB_PORT_RATE",
                    "port " + p.name() + " runs at " + gbps(p.rateGbps().getAsDouble()) + " Gb/s, expected "
                            + gbps(expectedRateGbps.getAsDouble()) + " Gb/s",
                    "reseat or replace the cable or transceiver; check the switch port's speed",
                    RepairAction.INSPECT_HARDWARE)));
        }
        // Downs within the window: the link_downed counter when the port has it, else the downs seen here.
        Instant start = now.minus(flapWindow);
        if (h.wasUp && !up) {
            h.seenDown.addLast(now);
        }
        h.wasUp = up;
        while (!h.seenDown.isEmpty() && !h.seenDown.peekFirst().isAfter(start)) {
            h.seenDown.pollFirst();
        }
        Long downed = p.counters().get("link_downed");
        double downs = downed != null ? h.downed.add(now, downed) : h.seenDown.size();
        if (downs >= flapLimit) {
            out.add(new NodeFinding(NodeCheck.IB_FLAP, subject, Finding.unhealthy(name(), "IB_PORT_FLAPPING",
                    "port " + p.name() + " went down " + (long) downs + " times within " + flapWindow.toMinutes()
                            + " min (limit " + flapLimit + ")", "replace the cable or transceiver; check the switch"
                            + " port's error log", RepairAction.INSPECT_HARDWARE)));
        }
        for (Map.Entry<String, Double> limit : errorsPerMinute.entrySet()) {
            Long value = p.counters().get(limit.getKey());
            if (value == null) {
                continue;
            }
            double grew = h.errors.computeIfAbsent(limit.getKey(), k -> new RateWindow(rateWindow)).add(now, value);
            if (grew > RateWindow.budget(rateWindow, limit.getValue())) {
                out.add(new NodeFinding(NodeCheck.IB_ERRORS, subject, Finding.degraded(name(),
                        "IB_PORT_" + limit.getKey().toUpperCase(java.util.Locale.ROOT),
                        "port " + p.name() + ": " + limit.getKey() + " grew by " + (long) grew + " within "
                                + rateWindow.toMinutes() + " min (limit " + limit.getValue() + " per minute)",
                        "check the cable and transceiver (mlxlink -d " + p.device() + " -p " + p.port() + " -c)",
                        RepairAction.INSPECT_HARDWARE)));
            }
        }
    }

    private static String gbps(double rate) {
        return rate == Math.rint(rate) ? Long.toString((long) rate) : Double.toString(rate);
    }
}
