package io.gpuagent.agent.coordinator;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.agent.AgentConfig;
import io.gpuagent.agent.AgentRegistry;
import io.gpuagent.agent.auth.AccessRole;
import io.gpuagent.agent.auth.OutgoingTls;
import io.gpuagent.agent.auth.TokenAuth;
import io.gpuagent.agent.health.HealthEngine;
import io.gpuagent.agent.health.HealthListener;
import io.gpuagent.agent.health.HealthModel;
import io.gpuagent.agent.lease.Inventory;
import io.gpuagent.agent.lease.InventorySource;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jboss.logging.Logger;

/**
 * Agent role with {@code gpu-agent.coordinator.url} set: registers this node with the coordinator and keeps it
 * registered, by posting the inventory to {@code <url>/v1/nodes/<node>/heartbeat} every heartbeat interval, at once
 * when a GPU's health changes, and within a sample interval when anything placement depends on (health,
 * cordon, lease, leasable) changes. Failures retry with exponential backoff from
 * {@code retry-initial-delay}, capped at the interval, and are logged once per outage, with the fix.
 * One platform thread; nothing here blocks the health model.
 */
@ApplicationScoped
public class CoordinatorClient {

    private static final Logger LOG = Logger.getLogger(CoordinatorClient.class);

    private final CoordinatorConfig config;
    private final NodeRole role;
    private final Instance<InventorySource> inventory;
    private final HealthModel health;
    private final TokenAuth token;
    private final ObjectMapper mapper;
    private final AgentRegistry agentRegistry;
    private final Duration poll;
    private final OutgoingTls tls;
    private final Semaphore wake = new Semaphore(0);
    private final AtomicBoolean registered = new AtomicBoolean();
    private volatile boolean running;
    private Thread thread;
    private Counter ok;
    private Counter failed;

    public CoordinatorClient(CoordinatorConfig config, NodeRole role, Instance<InventorySource> inventory, HealthModel health,
                             TokenAuth token, ObjectMapper mapper, AgentRegistry agentRegistry, AgentConfig agent,
                             OutgoingTls tls) {
        this.config = config;
        this.role = role;
        this.inventory = inventory;
        this.health = health;
        this.token = token;
        this.mapper = mapper;
        this.agentRegistry = agentRegistry;
        this.poll = agent.sampleInterval();
        this.tls = tls;
    }

    void start(@Observes StartupEvent event) {
        if (config.url().isEmpty()) {
            return;
        }
        if (role.coordinator()) {
            LOG.infof("gpu-agent.coordinator.url is ignored: this node is the coordinator (gpu-agent.role=coordinator)");
            return;
        }
        if (!inventory.isResolvable()) {
            LOG.warnf("not registering with the coordinator at %s: this build has no inventory source (lease book); "
                    + "upgrade the agent to one that serves GET /v1/inventory", config.url().get());
            return;
        }
        URI target = config.url().get();
        ok = Counter.builder("gpu_agent.coordinator.heartbeats").tag("result", "ok")
                .description("Heartbeats sent to the coordinator, by result.").register(agentRegistry.registry());
        failed = Counter.builder("gpu_agent.coordinator.heartbeats").tag("result", "failed")
                .description("Heartbeats sent to the coordinator, by result.").register(agentRegistry.registry());
        Gauge.builder("gpu_agent.coordinator.registered", registered, r -> r.get() ? 1 : 0)
                .description("1 while the last heartbeat to the coordinator succeeded.").register(agentRegistry.registry());
        health.addListener(new HealthListener() {
            @Override
            public void onChange(HealthEngine.Change change) {
                inventoryChanged();   // hand off: the heartbeat thread sends it
            }

            @Override
            public void onMigChange(HealthEngine.MigChange change) {
                inventoryChanged();   // a MIG device's health is in the inventory too
            }
        });
        running = true;
        thread = Thread.ofPlatform().name("coordinator-heartbeat").daemon().start(() -> run(target));
        LOG.infof("registering with the coordinator at %s every %s", target, config.heartbeatInterval());
    }

    void stop(@Observes ShutdownEvent event) {
        running = false;
        if (thread != null) {
            thread.interrupt();
        }
    }

    /** Sends the inventory at once (from any thread, never blocks). */
    public void inventoryChanged() {
        wake.release();
    }

    /** The heartbeat endpoint of {@code node}: its name goes in the path, so its credential is checked first. */
    static URI heartbeatUri(URI base, String node) {
        String s = base.toString();
        String name = java.net.URLEncoder.encode(String.valueOf(node), StandardCharsets.UTF_8).replace("+", "%20");
        return URI.create((s.endsWith("/") ? s.substring(0, s.length() - 1) : s) + "/v1/nodes/" + name + "/heartbeat");
    }

    private void run(URI target) {
        Duration interval = config.heartbeatInterval();
        Duration timeout = config.requestTimeout();
        BoundedCall http = new BoundedCall(tls.client(timeout), timeout);
        Duration backoff = config.retryInitialDelay();
        List<Object> lastSent = null;
        long lastOk = 0;
        int failures = 0;
        long outageSince = 0;
        while (running) {
            try {
                Inventory inv = inventory.get().inventory();
                List<Object> now = placementView(inv);
                boolean due = lastSent == null || !now.equals(lastSent)
                        || System.nanoTime() - lastOk >= interval.toNanos();
                if (due) {
                    String problem = send(http, target, inv, timeout);
                    if (problem == null) {
                        ok.increment();
                        if (!registered.getAndSet(true)) {
                            if (failures > 0) {
                                LOG.infof("registered with the coordinator at %s again after %d failed attempt(s) "
                                        + "over %d s", target, failures, (System.nanoTime() - outageSince) / 1_000_000_000L);
                            } else {
                                LOG.infof("registered with the coordinator at %s as node %s", target, inv.node());
                            }
                        }
                        failures = 0;
                        backoff = config.retryInitialDelay();
                        lastSent = now;
                        lastOk = System.nanoTime();
                    } else {
                        failed.increment();
                        registered.set(false);
                        if (failures++ == 0) {
                            outageSince = System.nanoTime();
                            LOG.warnf("heartbeat to the coordinator failed: %s. Retrying with backoff up to every %s; "
                                    + "logged once until it succeeds", problem, interval);
                        }
                        Thread.sleep(backoff.toMillis());
                        backoff = min(backoff.multipliedBy(2), interval);
                        continue;
                    }
                }
                long untilDue = interval.toNanos() - (System.nanoTime() - lastOk);
                if (wake.tryAcquire(Math.max(1, Math.min(poll.toNanos(), untilDue)), TimeUnit.NANOSECONDS)) {
                    wake.drainPermits();
                    lastSent = null;   // asked to send now
                }
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                // The inventory source failed (a bug): keep the thread, the next round may work.
                if (failures++ == 0) {
                    outageSince = System.nanoTime();
                    LOG.errorf(e, "cannot build the inventory for the coordinator; retrying. Please report this");
                }
                registered.set(false);
                try {
                    Thread.sleep(backoff.toMillis());
                } catch (InterruptedException x) {
                    return;
                }
                backoff = min(backoff.multipliedBy(2), interval);
            }
        }
    }

    /** Null when the coordinator took it, else what went wrong and what to do. */
    private String send(BoundedCall http, URI base, Inventory inv, Duration timeout) throws InterruptedException {
        BoundedCall.Answer r;
        URI target = heartbeatUri(base, inv.node());
        try {
            r = http.send(HttpRequest.newBuilder(target).timeout(timeout)
                    .header("Authorization", token.outgoing(AccessRole.NODE)).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(mapper.writeValueAsString(inv))).build());
        } catch (TokenAuth.TokenUnavailable e) {
            return e.getMessage();
        } catch (IOException e) {
            return "cannot reach " + target + " (" + e.getMessage() + "); check gpu-agent.coordinator.url and that "
                    + "the coordinator runs";
        }
        return switch (r.statusCode()) {
            case 200, 201, 204 -> null;
            case 401, 403 -> "the coordinator refused this agent's token (" + r.statusCode() + ": " + ProblemDetail.of(mapper, r.body(), 300)
                    + "); put this node's credential (gpu-agent.auth.node-token-file) in the coordinator's "
                    + "gpu-agent.auth.node-token-dir under the node's name (docs/security.md)";
            case 409 -> "the coordinator refused this heartbeat (" + ProblemDetail.of(mapper, r.body(), 300)
                    + "); if this node's address really changed, an operator must forget the node at the coordinator";
            case 404, 410 -> "the coordinator at " + target + " has no heartbeat endpoint for this agent (" + ProblemDetail.of(mapper, r.body(), 300)
                    + "); is it running with gpu-agent.role=coordinator, and the same version as this agent?";
            default -> "the coordinator answered " + r.statusCode() + ": " + ProblemDetail.of(mapper, r.body(), 300);
        };
    }


    /** What placement depends on; a change sends the inventory before the interval is up. */
    private static List<Object> placementView(Inventory inv) {
        return List.of(String.valueOf(inv.node()), String.valueOf(inv.agentUrl()), inv.healthy(), inv.gpus().stream()
                .map(g -> List.of(String.valueOf(g.uuid()), String.valueOf(g.health()), g.cordoned(), g.leasable(),
                        g.lease() == null ? "" : g.lease().leaseId(), g.migMode()))
                .toList(), inv.mig().stream()
                .map(m -> List.of(String.valueOf(m.uuid()), String.valueOf(m.health()), m.cordoned(), m.leasable(),
                        m.leaseId() == null ? "" : m.leaseId()))
                .toList());
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }
}
