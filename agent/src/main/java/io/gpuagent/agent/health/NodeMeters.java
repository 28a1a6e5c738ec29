package io.gpuagent.agent.health;

import io.gpuagent.agent.health.detect.HealthState;
import io.gpuagent.agent.health.detect.NodeCheck;
import io.gpuagent.agent.host.HostSample;
import io.gpuagent.agent.host.IbPort;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The node checks' series (docs/node-health.md#metrics): {@code gpu_agent_node_check{check}} (0 healthy,
 * 1 degraded, 2 unhealthy, -1 not judged yet), {@code gpu_agent_node_check_reasons{check,code}} (how many
 * subjects have the reason now; a code once seen stays at 0), and per InfiniBand port {@code gpu_agent_ib_port_up},
 * {@code gpu_agent_ib_port_rate_gbps} and {@code gpu_agent_ib_port_counter{counter}}. Bounded: one series per {@link NodeCheck},
 * the detectors' codes, at most {@link io.gpuagent.agent.host.HostReader#MAX_PORTS} ports. Gauges read the latest
 * verdict and host sample when scraped; {@link #sync} runs under the health model's lock.
 */
final class NodeMeters {

    private final MeterRegistry registry;
    private final Supplier<NodeHealth> node;
    private volatile HostSample host;
    private final Set<String> codes = new HashSet<>();
    private final Set<String> ports = new HashSet<>();

    NodeMeters(MeterRegistry registry, Supplier<NodeHealth> node) {
        this.registry = registry;
        this.node = node;
        for (NodeCheck c : NodeCheck.values()) {
            Gauge.builder("gpu_agent.node.check", () -> value(node.get().stateOf(c.label())))
                    .description("Node check state: 0 healthy, 1 degraded, 2 unhealthy, -1 not judged yet")
                    .tag("check", c.label()).register(registry);
        }
    }

    static double value(HealthState s) {
        return switch (s) {
            case INITIALIZING -> -1;
            case HEALTHY -> 0;
            case DEGRADED -> 1;
            case UNHEALTHY, LOST -> 2;
        };
    }

    /** Registers the series of reason codes and ports seen for the first time. */
    void sync(NodeHealth verdict, HostSample sample) {
        host = sample;
        for (NodeReason r : verdict.reasons()) {
            String key = r.check() + '/' + r.code();
            if (codes.add(key)) {
                Gauge.builder("gpu_agent.node.check.reasons", () -> count(r.check(), r.code()))
                        .description("Subjects (node, GPUs, ports) that have this node-check reason now")
                        .tags("check", r.check(), "code", r.code()).register(registry);
            }
        }
        for (IbPort p : sample.ibPorts()) {
            if (ports.add(p.name())) {
                String device = p.device();
                int port = p.port();
                Gauge.builder("gpu_agent.ib.port.up", () -> port(device, port, q -> q.up() ? 1 : 0))
                        .description("InfiniBand/RoCE port ACTIVE and LinkUp (1) or not (0)")
                        .tags("device", device, "port", Integer.toString(port)).register(registry);
                Gauge.builder("gpu_agent.ib.port.rate.gbps", () -> port(device, port, q -> q.rateGbps().orElse(Double.NaN)))
                        .description("InfiniBand/RoCE port rate in Gb/s")
                        .tags("device", device, "port", Integer.toString(port)).register(registry);
                for (String c : IbPort.COUNTERS) {
                    Gauge.builder("gpu_agent.ib.port.counter", () -> port(device, port,
                                    q -> q.counters().containsKey(c) ? q.counters().get(c) : Double.NaN))
                            .description("InfiniBand/RoCE port error counter as sysfs shows it")
                            .tags("device", device, "port", Integer.toString(port), "counter", c).register(registry);
                }
            }
        }
    }

    private double count(String check, String code) {
        return node.get().reasons().stream().filter(r -> r.check().equals(check) && r.code().equals(code)).count();
    }

    private double port(String device, int port, java.util.function.ToDoubleFunction<IbPort> read) {
        HostSample h = host;
        if (h != null) {
            List<IbPort> all = h.ibPorts();
            for (IbPort p : all) {
                if (p.port() == port && p.device().equals(device)) {
                    return read.applyAsDouble(p);
                }
            }
        }
        return Double.NaN;   // gone since: NaN rather than a stale value
    }
}
