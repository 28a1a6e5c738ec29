package io.gpuagent.agent.lease;

import io.gpuagent.agent.health.HealthModel;
import io.gpuagent.agent.sampler.SamplerService;
import io.quarkus.runtime.LaunchMode;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Clock;
import org.eclipse.microprofile.config.ConfigProvider;

/**
 * {@code GET /v1/inventory} and the coordinator heartbeat's body: the latest snapshot, health verdicts,
 * cordons and leases, put together without calling NVML. The same {@link Standings} the lease book
 * decides with, so {@code leasable} here means a lease for that GPU (or MIG device) would be granted now.
 */
@ApplicationScoped
public class NodeInventory implements InventorySource {

    private final LeaseBook book;
    private final HealthModel health;
    private final String node;
    private final LeaseConfig config;
    private final Clock clock;
    private volatile String agentUrl;

    public NodeInventory(LeaseBook book, HealthModel health, SamplerService sampler, LeaseConfig config, Clock clock) {
        this.clock = clock;
        this.book = book;
        this.health = health;
        this.node = sampler.hostname();
        this.config = config;
    }

    @Override
    public Inventory inventory() {
        Standings now = book.standings();
        return new Inventory(node, agentUrl(), clock.instant(), health.report().healthy(),
                now.gpus().stream().map(GpuStanding::toInventory).toList(), now.topology().links(),
                now.mig().stream().map(MigStanding::toInventory).toList());
    }

    /** Read on first use: with a random port (tests) the server knows its port only once it listens. */
    private String agentUrl() {
        String url = agentUrl;
        if (url == null) {
            url = config.advertiseUrl().map(String::strip).filter(s -> !s.isEmpty()).orElseGet(this::ownUrl);
            agentUrl = url;
        }
        return url;
    }

    private String ownUrl() {
        String key = LaunchMode.current() == LaunchMode.TEST ? "quarkus.http.test-port" : "quarkus.http.port";
        String port = System.getProperty(key, ConfigProvider.getConfig().getOptionalValue(key, String.class).orElse("9400"));
        return "http://" + node + ":" + port;
    }
}
