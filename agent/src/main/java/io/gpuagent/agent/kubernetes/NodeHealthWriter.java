package io.gpuagent.agent.kubernetes;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeCondition;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.gpuagent.agent.health.HealthEngine;
import io.gpuagent.agent.health.HealthListener;
import io.gpuagent.agent.health.HealthModel;
import io.gpuagent.agent.nvml.ShutdownOrder;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.Startup;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Keeps the node's {@code GpuHealthy} condition (on {@code nodes/status}) and the agent's taint in step with the
 * health model (docs/kubernetes.md#health-in-the-node), and posts the Events: its own thread
 * ({@code kubernetes-node}) wakes on every health change and every heartbeat interval, reads the node, and writes
 * only what differs: the agent's condition type and its own taint, conditional on the resourceVersion (a 409 reads
 * again). While the API server is down it retries with a doubling backoff; the health model and the metrics never
 * wait for it. Nothing runs with {@code gpu-agent.kubernetes.enabled=false}.
 */
@Startup
@ApplicationScoped
public class NodeHealthWriter implements HealthListener {

    private static final Logger LOG = Logger.getLogger(NodeHealthWriter.class);
    static final String CONDITION = "GpuHealthy";
    private static final int CONFLICT_RETRIES = 5;

    private final ApiServer api;
    private final KubernetesConfig config;
    private final HealthModel health;
    /** A wake-up: one is enough however many changes arrive, the thread reads the whole state. */
    private final BlockingQueue<Boolean> wake = new ArrayBlockingQueue<>(1);
    private final Thread thread;
    private volatile boolean closed;
    private GpuVerdict announced;   // the verdict the last health Event told; node thread only
    private Instant lastHeartbeat = Instant.EPOCH;   // node thread only

    public NodeHealthWriter(ApiServer api, HealthModel health) {
        this.api = api;
        this.config = api.config();
        this.health = health;
        if (!api.enabled()) {
            this.thread = null;
            return;
        }
        this.thread = Thread.ofPlatform().name("kubernetes-node").daemon().start(this::loop);
        health.addListener(this);
    }

    void stop(@Observes @Priority(ShutdownOrder.RECOVERY) ShutdownEvent event) {
        closed = true;
        if (thread != null) {
            thread.interrupt();
        }
    }

    // ---- health listener: under the health lock, so it only wakes the thread ----

    @Override
    public void onChange(HealthEngine.Change change) {
        wake.offer(Boolean.TRUE);
    }

    @Override
    public void onMigChange(HealthEngine.MigChange change) {
        wake.offer(Boolean.TRUE);
    }

    private void loop() {
        long backoffMillis = 0;
        while (!closed) {
            try {
                long waitMillis = backoffMillis > 0 ? backoffMillis : config.heartbeatInterval().toMillis();
                wake.poll(waitMillis, TimeUnit.MILLISECONDS);
                if (backoffMillis > 0) {
                    wake.clear();   // a change during the backoff is read by this try
                }
                try {
                    Node node = sync();
                    postEvents(node);
                    backoffMillis = 0;
                } catch (KubernetesClientException | IllegalStateException e) {
                    // ApiServer logged the outage's start once; here only the next try is scheduled.
                    backoffMillis = Math.min(Math.max(1000, backoffMillis * 2), config.retryMax().toMillis());
                    LOG.debugf("kubernetes: node update failed (%s); next try in %d ms", e.getMessage(), backoffMillis);
                }
            } catch (InterruptedException e) {
                return;
            } catch (Exception e) {
                LOG.errorf(e, "kubernetes: unexpected failure updating node %s; retrying", api.nodeName());
            }
        }
    }

    /** Reads the node and writes what differs; returns the node as last read. */
    Node sync() throws Exception {
        GpuVerdict v = GpuVerdict.of(health.gpus(), config.taintStates());
        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        boolean heartbeatDue = !now.isBefore(lastHeartbeat.plus(config.heartbeatInterval()));
        Node node = null;
        for (int attempt = 1; ; attempt++) {
            node = api.node();
            try {
                Optional<JsonPatch> condition = conditionPatch(node, v, now, heartbeatDue);
                if (condition.isPresent()) {
                    LOG.debugf("kubernetes: GpuHealthy=%s (%s) on node %s", v.status(), v.reason(), api.nodeName());
                    api.patchStatus(condition.get());
                    lastHeartbeat = now;
                    node = api.node();   // the taint patch needs the new resourceVersion
                }
                if (config.mode() == KubernetesConfig.Mode.CONDITION_AND_TAINT) {
                    Optional<JsonPatch> taint = Taints.patch(node, config.taintEffect(), v.taint());
                    if (taint.isPresent()) {
                        LOG.debugf("kubernetes: taint %s=%s on node %s", Taints.KEY, v.taint().orElse("(none)"),
                                api.nodeName());
                        api.patchNode(ApiServer.Kind.TAINT, taint.get());
                    }
                }
                break;
            } catch (KubernetesClientException e) {
                if (!ApiServer.conflict(e) || attempt >= CONFLICT_RETRIES) {
                    throw e;
                }
                heartbeatDue = false;   // what was written stays; the next attempt writes only what still differs
            }
        }
        if (announced == null || !announced.status().equals(v.status()) || !announced.reason().equals(v.reason())
                || !announced.message().equals(v.message())) {
            if (announced != null || !"True".equals(v.status())) {   // no Event for a healthy start
                api.recordEvent(!"True".equals(v.status()), v.reason(), v.message());
            }
            announced = v;
        }
        return node;
    }

    /** The patch of nodes/status that sets our condition, or empty when it already says {@code v} and no heartbeat is due. */
    static Optional<JsonPatch> conditionPatch(Node node, GpuVerdict v, Instant now, boolean heartbeatDue) {
        List<NodeCondition> conditions = node.getStatus() == null || node.getStatus().getConditions() == null
                ? List.of() : node.getStatus().getConditions();
        NodeCondition existing = conditions.stream().filter(c -> CONDITION.equals(c.getType())).findFirst().orElse(null);
        boolean same = existing != null && v.status().equals(existing.getStatus()) && v.reason().equals(existing.getReason())
                && v.message().equals(existing.getMessage());
        if (same && !heartbeatDue) {
            return Optional.empty();
        }
        String transition = existing != null && v.status().equals(existing.getStatus())
                && existing.getLastTransitionTime() != null ? existing.getLastTransitionTime() : now.toString();
        NodeCondition ours = new NodeCondition(now.toString(), transition, v.message(), v.reason(), v.status(), CONDITION);
        List<NodeCondition> next = new ArrayList<>(conditions);
        if (existing != null) {
            next.set(next.indexOf(existing), ours);
        } else {
            next.add(ours);
        }
        return Optional.of(JsonPatch.of(node.getMetadata()).set("/status/conditions", next));
    }

    private void postEvents(Node node) throws Exception {
        BlockingQueue<ApiServer.NodeEvent> events = api.pendingEvents();
        ApiServer.NodeEvent e;
        // Best effort: an Event the API server refuses is dropped (and counted), never retried forever.
        while ((e = events.poll()) != null) {
            api.post(e, node.getMetadata().getUid());
        }
    }
}
