package io.gpuagent.agent.kubernetes;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.agent.AgentRegistry;
import io.gpuagent.agent.kubelet.PodRef;
import io.fabric8.kubernetes.api.model.DeleteOptionsBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.policy.v1.Eviction;
import io.fabric8.kubernetes.api.model.policy.v1.EvictionBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.jboss.logging.Logger;

/**
 * The agent's one connection to the Kubernetes API server, for its own node: reads the node, patches it, evicts
 * pods, posts Events. Created only with {@code gpu-agent.kubernetes.enabled=true}; otherwise no client exists and
 * {@link #enabled()} is false. Every request is counted in {@code gpu_agent_kubernetes_requests_total{kind,result}};
 * an outage (API server unreachable or refusing) is logged once when it starts and once when it ends. The token
 * never reaches a log line: only the server's address and where the credentials came from are logged.
 */
@ApplicationScoped
public class ApiServer {

    private static final Logger LOG = Logger.getLogger(ApiServer.class);
    static final String REQUESTS = "gpu_agent_kubernetes_requests_total";
    static final String UP = "gpu_agent_kubernetes_api_up";
    /** Events waiting for the node thread; more are dropped (and counted): the API server is slow or down. */
    static final int EVENT_QUEUE = 64;
    /** Writes the patches (plain Jackson: the fabric8 model classes carry its annotations). */
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What a request was for: the {@code kind} label. */
    enum Kind { READ, CONDITION, TAINT, CORDON, EVICTION, EVENT }

    /** How it ended: the {@code result} label. */
    enum Outcome { OK, CONFLICT, BLOCKED, GONE, ERROR, DROPPED }

    /** What an eviction came to. */
    public enum EvictionResult {
        /** Accepted: the pod is being deleted with its grace period. */
        EVICTED,
        /** Refused for now (HTTP 429): a PodDisruptionBudget allows no disruption at the moment. */
        BLOCKED,
        /** The pod is gone already, or is a new pod under the same name (UID precondition failed). */
        GONE
    }

    /** One Event to post about the node. */
    record NodeEvent(boolean warning, String reason, String message) {
    }

    private final KubernetesConfig config;
    private final KubernetesClient client;   // null when disabled
    private final String node;               // null when disabled
    private final AgentRegistry registry;
    private final AtomicBoolean down = new AtomicBoolean();
    private final AtomicLong failuresInOutage = new AtomicLong();
    private final BlockingQueue<NodeEvent> events = new ArrayBlockingQueue<>(EVENT_QUEUE);

    public ApiServer(KubernetesConfig config, AgentRegistry agentRegistry) {
        this.config = config;
        this.registry = agentRegistry;
        if (!config.enabled()) {
            this.client = null;
            this.node = null;
            return;
        }
        this.node = config.nodeName().or(() -> Optional.ofNullable(System.getenv("NODE_NAME")))
                .map(String::strip).filter(s -> !s.isEmpty())
                .orElseThrow(() -> new IllegalStateException("gpu-agent.kubernetes.enabled=true needs this node's name: "
                        + "set the NODE_NAME environment variable from the downward API (fieldRef spec.nodeName) or "
                        + "gpu-agent.kubernetes.node-name"));
        if (!Taints.EFFECTS.contains(config.taintEffect())) {
            throw new IllegalArgumentException("gpu-agent.kubernetes.taint-effect must be one of " + Taints.EFFECTS
                    + ", got '" + config.taintEffect() + "'");
        }
        Config c = config.kubeconfig().map(ApiServer::fromKubeconfig).orElseGet(() -> Config.autoConfigure(null));
        int timeout = Math.toIntExact(config.requestTimeout().toMillis());
        c.setRequestTimeout(timeout);
        c.setConnectionTimeout(timeout);
        c.setRequestRetryBackoffLimit(0);   // the node thread retries with its own backoff; a request never waits long
        this.client = new KubernetesClientBuilder().withConfig(c).withHttpClientFactory(new JdkHttpClientFactory()).build();
        Gauge.builder(UP, down, d -> d.get() ? 0 : 1)
                .description("1 while the Kubernetes API server answered the agent's last request, 0 during an outage")
                .strongReference(true).register(registry.registry());
        for (Kind k : Kind.values()) {
            count(k, Outcome.OK, 0);   // the series exist before the first write
        }
        LOG.infof("kubernetes: node %s, API server %s, credentials from %s; condition GpuHealthy%s", node,
                c.getMasterUrl(), config.kubeconfig().map(p -> "kubeconfig " + p).orElse("the pod's service account"),
                config.mode() == KubernetesConfig.Mode.CONDITION_AND_TAINT ? " and taint " + Taints.KEY + ":"
                        + config.taintEffect() + " while a GPU is " + config.taintStates() : " only (no taint)");
    }

    private static Config fromKubeconfig(java.nio.file.Path path) {
        try {
            return Config.fromKubeconfig(Files.readString(path));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read gpu-agent.kubernetes.kubeconfig " + path + ": " + e.getMessage()
                    + "; point it at a readable kubeconfig or unset it to use the pod's service account", e);
        }
    }

    void stop(@Observes ShutdownEvent event) {
        if (client != null) {
            client.close();
        }
    }

    public boolean enabled() {
        return client != null;
    }

    /** This node's name; only when {@link #enabled()}. */
    public String nodeName() {
        return node;
    }

    KubernetesConfig config() {
        return config;
    }

    // ---- requests (only when enabled) ----

    Node node() throws Exception {
        return call(Kind.READ, () -> {
            Node n = client.nodes().withName(node).get();
            if (n == null) {
                throw new IllegalStateException("node " + node + " does not exist in the API server; check NODE_NAME "
                        + "(gpu-agent.kubernetes.node-name)");
            }
            return n;
        });
    }

    /** Patches the node (spec, metadata: the {@code patch} verb on {@code nodes}). */
    void patchNode(Kind kind, JsonPatch patch) throws Exception {
        String json = JSON.writeValueAsString(patch.ops());
        call(kind, () -> client.nodes().withName(node).patch(PatchContext.of(PatchType.JSON), json));
    }

    /** Patches {@code nodes/status}. */
    void patchStatus(JsonPatch patch) throws Exception {
        String json = JSON.writeValueAsString(patch.ops());
        call(Kind.CONDITION, () -> client.nodes().withName(node).subresource("status")
                .patch(PatchContext.of(PatchType.JSON), json));
    }

    /**
     * Whether a patch failed because the object changed since it was read: its resourceVersion {@code test}
     * failed (the API server answers 422 for a failed test op, 409 for a stale resourceVersion).
     */
    static boolean conflict(KubernetesClientException e) {
        return e.getCode() == 409 || e.getCode() == 422;
    }

    /**
     * POSTs a policy/v1 Eviction for the pod, with its UID as a precondition (a new pod under the same name is
     * not the one that held the GPU). Without a UID (the kubelet's answer carries none) the pod is read first and
     * evicted only while it runs on this node, under the UID read. The API server deletes it only if its PodDisruptionBudgets allow.
     */
    public EvictionResult evict(PodRef pod) throws Exception {
        String uid = pod.uid();
        try {
            if (uid.isEmpty()) {
                // The kubelet's pod-resources answer names no UID: read the pod, and evict it only if it is still
                // the one on this node (a pod of the same name elsewhere, or gone, is not ours to touch).
                Pod live = run(() -> client.pods().inNamespace(pod.namespace()).withName(pod.pod()).get());
                if (live == null || live.getSpec() == null || !node.equals(live.getSpec().getNodeName())) {
                    count(Kind.EVICTION, Outcome.GONE, 1);
                    return EvictionResult.GONE;
                }
                uid = live.getMetadata().getUid();
            }
            Eviction eviction = new EvictionBuilder().withNewMetadata().withName(pod.pod())
                    .withNamespace(pod.namespace()).endMetadata().withDeleteOptions(new DeleteOptionsBuilder()
                            .withNewPreconditions().withUid(uid).endPreconditions().build()).build();
            boolean done = run(() -> client.pods().inNamespace(pod.namespace()).withName(pod.pod()).evict(eviction));
            count(Kind.EVICTION, done ? Outcome.OK : Outcome.BLOCKED, 1);
            return done ? EvictionResult.EVICTED : EvictionResult.BLOCKED;
        } catch (KubernetesClientException e) {
            if (e.getCode() == 404 || e.getCode() == 409) {
                count(Kind.EVICTION, Outcome.GONE, 1);
                return EvictionResult.GONE;
            }
            count(Kind.EVICTION, Outcome.ERROR, 1);
            failed(e);
            throw e;
        }
    }

    /** Queues an Event about the node for the node thread; never blocks (dropped and counted when full or off). */
    public void recordEvent(boolean warning, String reason, String message) {
        if (client == null || !config.events()) {
            return;
        }
        if (!events.offer(new NodeEvent(warning, reason, Text.bounded(message, Text.MESSAGE_MAX)))) {
            count(Kind.EVENT, Outcome.DROPPED, 1);
        }
    }

    BlockingQueue<NodeEvent> pendingEvents() {
        return events;
    }

    void post(NodeEvent e, String nodeUid) throws Exception {
        java.time.Instant now = java.time.Instant.now();
        io.fabric8.kubernetes.api.model.Event event = new io.fabric8.kubernetes.api.model.EventBuilder()
                .withNewMetadata().withNamespace("default")
                .withName(node + "." + Long.toHexString(System.currentTimeMillis()) + Long.toHexString(System.nanoTime() & 0xffff))
                .endMetadata()
                .withNewInvolvedObject().withApiVersion("v1").withKind("Node").withName(node).withUid(nodeUid)
                .endInvolvedObject()
                .withType(e.warning() ? "Warning" : "Normal").withReason(e.reason()).withMessage(e.message())
                .withNewSource().withComponent("gpu-agent").withHost(node).endSource()
                .withReportingComponent("gpu-agent").withReportingInstance(node)
                .withFirstTimestamp(now.toString()).withLastTimestamp(now.toString()).withCount(1)
                .build();
        call(Kind.EVENT, () -> client.v1().events().inNamespace("default").resource(event).create());
    }

    // ---- counting and the outage log ----

    private <T> T call(Kind kind, Callable<T> request) throws Exception {
        try {
            T t = run(request);
            count(kind, Outcome.OK, 1);
            return t;
        } catch (KubernetesClientException e) {
            if (conflict(e)) {
                count(kind, Outcome.CONFLICT, 1);
                throw e;   // read-modify-write: the caller reads again
            }
            count(kind, Outcome.ERROR, 1);
            failed(e);
            throw e;
        } catch (Exception e) {
            count(kind, Outcome.ERROR, 1);
            throw e;
        }
    }

    /** The request, then the end of an outage if one was going on. */
    private <T> T run(Callable<T> request) throws Exception {
        T t = request.call();
        if (down.compareAndSet(true, false)) {
            LOG.infof("kubernetes: the API server answers again (%d failed requests during the outage); node "
                    + "condition and taint are brought up to date", failuresInOutage.getAndSet(0));
        }
        return t;
    }

    private void failed(KubernetesClientException e) {
        failuresInOutage.incrementAndGet();
        if (down.compareAndSet(false, true)) {
            String what = e.getCode() == 401 || e.getCode() == 403
                    ? "refuses the agent (HTTP " + e.getCode() + "): check the service account's ClusterRole against "
                    + "docs/kubernetes.md#health-in-the-node"
                    : (e.getCode() > 0 ? "answers HTTP " + e.getCode() : "is unreachable") + " ("
                    + Text.bounded(String.valueOf(rootMessage(e)), 200) + ")";
            LOG.warnf("kubernetes: the API server %s. The node's GpuHealthy condition and taint are not updated "
                    + "until it answers; retrying with backoff up to %s. Metrics, /health and recovery go on as before",
                    what, config.retryMax());
        }
    }

    private static String rootMessage(Throwable t) {
        Throwable c = t;
        while (c.getCause() != null && c.getCause() != c) {
            c = c.getCause();
        }
        return c == t ? t.getMessage() : c.getClass().getSimpleName() + ": " + c.getMessage();
    }

    private void count(Kind kind, Outcome outcome, long n) {
        Counter.builder(REQUESTS).tag("kind", kind.name().toLowerCase(Locale.ROOT))
                .tag("result", outcome.name().toLowerCase(Locale.ROOT))
                .description("Requests the agent made to the Kubernetes API server, by what they were for and how they "
                        + "ended (conflict: retried after a fresh read; blocked: an eviction a PodDisruptionBudget "
                        + "refused for now; dropped: an Event the full queue could not hold)")
                .register(registry.registry()).increment(n);
    }
}
