package io.gpuagent.agent.kubernetes;

import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.NodeCondition;
import io.fabric8.kubernetes.api.model.Taint;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Kubernetes API server for the tests: fabric8's {@link KubernetesMockServer} in CRUD mode (real HTTP and JSON,
 * objects stored and served back), in front of it the Eviction subresource the CRUD store does not have (a
 * scripted number of 429s as a PodDisruptionBudget gives them, then the pod is deleted) and a switch that makes
 * every request answer 503 (an API server refusing). Seeds node {@value #NODE} with a Ready condition and two
 * taints that are not the agent's.
 */
public class MockApiServer implements QuarkusTestResourceLifecycleManager {

    static final String NODE = "test-node";
    /** The kubeconfig's bearer token: it must never appear in a log line. */
    static final String TOKEN = "kubeapi-test-token-never-logged";
    static final Taint FOREIGN = new Taint("NoSchedule", "example.com/maintenance", null, "planned");
    static final Taint SAME_KEY_OTHER_EFFECT = new Taint("NoExecute", Taints.KEY, null, "set-by-admin");

    private static final Pattern EVICTION = Pattern.compile("/api/v1/namespaces/([^/]+)/pods/([^/]+)/eviction");

    static final class Scripted extends Dispatcher {
        final KubernetesCrudDispatcher crud = new KubernetesCrudDispatcher();
        /** Evictions answered 429 before they are let through. */
        final AtomicInteger refuseEvictions = new AtomicInteger();
        /** {@code namespace/pod} of every eviction POST, in order. */
        final List<String> evictions = new CopyOnWriteArrayList<>();
        volatile boolean refusing;

        @Override
        public MockResponse dispatch(RecordedRequest request) {
            if (refusing) {
                return status(503, "Failure", "ServiceUnavailable", "the test's API server is down");
            }
            Matcher m = EVICTION.matcher(request.getPath().split("\\?")[0]);
            if ("POST".equals(request.getMethod()) && m.matches()) {
                evictions.add(m.group(1) + "/" + m.group(2));
                if (refuseEvictions.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                    return status(429, "Failure", "TooManyRequests",
                            "Cannot evict pod as it would violate the pod's disruption budget.");
                }
                MockResponse deleted = crud.handleDelete("/api/v1/namespaces/" + m.group(1) + "/pods/" + m.group(2));
                return deleted.code() == 404 ? status(404, "Failure", "NotFound", "pods \"" + m.group(2) + "\" not found")
                        : status(201, "Success", "", "");
            }
            return crud.dispatch(request);
        }

        private static MockResponse status(int code, String status, String reason, String message) {
            return new MockResponse().setResponseCode(code).setHeader("Content-Type", "application/json")
                    .setBody("{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"" + status + "\",\"reason\":\""
                            + reason + "\",\"message\":\"" + message + "\",\"code\":" + code + "}");
        }
    }

    static volatile Scripted dispatcher;
    static volatile KubernetesMockServer server;
    static volatile KubernetesClient client;

    @Override
    public Map<String, String> start() {
        dispatcher = new Scripted();
        server = new KubernetesMockServer(new io.fabric8.mockwebserver.Context(), new MockWebServer(), new HashMap<>(), dispatcher, false);
        server.init();
        client = server.createClient();
        client.nodes().resource(new NodeBuilder().withNewMetadata().withName(NODE).endMetadata()
                .withNewSpec().withTaints(FOREIGN, SAME_KEY_OTHER_EFFECT).endSpec()
                .withNewStatus().withConditions(new NodeCondition("2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z",
                        "kubelet is posting ready status", "KubeletReady", "True", "Ready")).endStatus()
                .build()).create();
        Path kubeconfig = Path.of("target/kubernetes/kubeconfig");
        try {
            Files.createDirectories(kubeconfig.getParent());
            Files.writeString(kubeconfig, """
                    apiVersion: v1
                    kind: Config
                    clusters:
                    - name: mock
                      cluster:
                        server: http://%s:%d
                    contexts:
                    - name: mock
                      context:
                        cluster: mock
                        user: agent
                        namespace: default
                    current-context: mock
                    users:
                    - name: agent
                      user:
                        token: %s
                    """.formatted(server.getHostName(), server.getPort(), TOKEN));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Map.of("gpu-agent.kubernetes.enabled", "true", "gpu-agent.kubernetes.node-name", NODE,
                "gpu-agent.kubernetes.kubeconfig", kubeconfig.toAbsolutePath().toString(),
                "gpu-agent.kubernetes.retry-max", "2s", "gpu-agent.kubernetes.request-timeout", "3s");
    }

    @Override
    public void stop() {
        if (client != null) {
            client.close();
        }
        if (server != null) {
            server.destroy();
        }
    }
}
