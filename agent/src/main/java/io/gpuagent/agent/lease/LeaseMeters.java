package io.gpuagent.agent.lease;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The lease book's {@code gpu_agent_*} series: {@code gpu_agent_leases{state="active"}} (live leases),
 * {@code gpu_agent_gpu_leased{gpu,UUID,job}} (1 per leased GPU, gone when free),
 * {@code gpu_agent_lease_requests_total{result}} (granted, refused, invalid, failed) and
 * {@code gpu_agent_lease_ends_total{how}} (released, expired, ended). Called under the lease book's lock.
 */
final class LeaseMeters {

    private final MeterRegistry registry;
    private final AtomicInteger active = new AtomicInteger();
    private final Map<String, Meter> leased = new HashMap<>();   // "uuid job index" -> gauge

    LeaseMeters(MeterRegistry registry) {
        this.registry = registry;
        Gauge.builder("gpu_agent.leases", active, AtomicInteger::get)
                .description("Live GPU leases on this node.").tag("state", "active").register(registry);
        for (String result : List.of("granted", "refused", "invalid", "failed")) {
            requests(result);
        }
        for (String how : List.of("released", "expired", "ended")) {
            ends(how);
        }
    }

    void request(String result) {
        requests(result).increment();
    }

    void ended(String how) {
        ends(how).increment();
    }

    /** Makes the per-GPU gauges match the live leases. */
    void sync(List<Lease> live) {
        active.set(live.size());
        Map<String, String[]> want = new HashMap<>();
        for (Lease l : live) {
            for (int i = 0; i < l.gpus().size(); i++) {
                String[] tags = {Integer.toString(l.indices().get(i)), l.gpus().get(i), l.jobId()};
                want.put(String.join(" ", tags), tags);
            }
        }
        leased.entrySet().removeIf(e -> {
            if (!want.containsKey(e.getKey())) {
                registry.remove(e.getValue());
                return true;
            }
            return false;
        });
        want.forEach((key, tags) -> leased.computeIfAbsent(key, k -> Gauge.builder("gpu_agent.gpu.leased", () -> 1)
                .description("1 for each GPU held by a lease, labelled with the job holding it.")
                .tag("gpu", tags[0]).tag("UUID", tags[1]).tag("job", tags[2]).register(registry)));
    }

    private Counter requests(String result) {
        return Counter.builder("gpu_agent.lease.requests").description("Lease requests answered, by result.")
                .tag("result", Objects.requireNonNull(result)).register(registry);
    }

    private Counter ends(String how) {
        return Counter.builder("gpu_agent.lease.ends")
                .description("Leases that ended: released by their holder, expired without a heartbeat, or ended by the agent (drain).")
                .tag("how", how).register(registry);
    }
}
