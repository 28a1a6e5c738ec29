package io.gpuagent.agent.kubernetes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.openshift.api.model.monitoring.v1.PodMonitor;
import java.io.IOException;
import java.io.StringReader;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every overlay in {@code kubernetes/overlays} rendered by {@code kubectl kustomize} (as {@code kubectl apply -k}
 * renders it), every object parsed strictly by the Kubernetes model classes: a field the API does not know (a typo,
 * a wrong indent) fails here instead of being dropped by the API server. Then what docs/kubernetes.md promises.
 * Skips only without kubectl on PATH, unless {@code -Dkubectl.required=true} (CI).
 */
class KubernetesManifestsTest {

    private static final Path KUSTOMIZE_ROOT = Path.of("../kubernetes").toAbsolutePath().normalize();
    private static final Map<String, Class<?>> KINDS = Map.of(
            "v1/Namespace", Namespace.class,
            "v1/ServiceAccount", ServiceAccount.class,
            "v1/ConfigMap", ConfigMap.class,
            "v1/Service", Service.class,
            "apps/v1/DaemonSet", DaemonSet.class,
            "rbac.authorization.k8s.io/v1/ClusterRole", ClusterRole.class,
            "rbac.authorization.k8s.io/v1/ClusterRoleBinding", ClusterRoleBinding.class,
            "monitoring.coreos.com/v1/PodMonitor", PodMonitor.class);
    private static final ObjectMapper STRICT = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY);

    static Stream<String> overlays() throws IOException {
        try (Stream<Path> dirs = Files.list(KUSTOMIZE_ROOT.resolve("overlays"))) {
            List<String> names = dirs.filter(Files::isDirectory).map(p -> p.getFileName().toString()).sorted().toList();
            assertEquals(List.of("enforce", "observe"), names, "a new overlay needs its checks here");
            return names.stream();
        }
    }

    @ParameterizedTest
    @MethodSource("overlays")
    void rendersAndParsesStrictly(String overlay) throws Exception {
        List<HasMetadata> objects = render(overlay);
        Map<String, HasMetadata> byKind = new TreeMap<>();
        objects.forEach(o -> byKind.put(o.getKind(), o));
        assertEquals(Set.of("Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "ConfigMap", "Service",
                "DaemonSet", "PodMonitor"), byKind.keySet());
        objects.stream().filter(o -> !o.getKind().startsWith("Cluster") && !o.getKind().equals("Namespace"))
                .forEach(o -> assertEquals("gpu-agent", o.getMetadata().getNamespace(), o.getKind()));

        rbacIsExactlyTheVerbsTheAgentNeeds((ClusterRole) byKind.get("ClusterRole"), (ClusterRoleBinding) byKind.get("ClusterRoleBinding"));
        DaemonSet ds = (DaemonSet) byKind.get("DaemonSet");
        ConfigMap config = (ConfigMap) byKind.get("ConfigMap");
        daemonSetServesWhateverTheGpus(ds, config);
        assertEquals(Set.of("agent.properties"), config.getData().keySet(), "one file, the agent's settings");
        Properties properties = new Properties();
        properties.load(new StringReader(config.getData().get("agent.properties")));
        assertEquals(overlay, properties.getProperty("gpu-agent.recovery.mode"));
        if (overlay.equals("enforce")) {
            enforceHasItsPrivateOperatorToken(ds, properties);
        }
        PodMonitor monitor = (PodMonitor) byKind.get("PodMonitor");
        assertEquals("metrics", monitor.getSpec().getPodMetricsEndpoints().getFirst().getPort());
        assertEquals("/metrics", monitor.getSpec().getPodMetricsEndpoints().getFirst().getPath());
        // rules/ alert on up{job="gpu-agent"}: the job is the value of this pod label.
        assertEquals("gpu-agent", ds.getSpec().getTemplate().getMetadata().getLabels().get(monitor.getSpec().getJobLabel()));
        assertEquals(ds.getSpec().getSelector().getMatchLabels(), monitor.getSpec().getSelector().getMatchLabels());
        assertEquals(ds.getSpec().getSelector().getMatchLabels(), ((Service) byKind.get("Service")).getSpec().getSelector());
    }

    private static void rbacIsExactlyTheVerbsTheAgentNeeds(ClusterRole role, ClusterRoleBinding binding) {
        Map<String, Set<String>> verbs = new TreeMap<>();
        role.getRules().forEach(r -> {
            assertEquals(List.of(""), r.getApiGroups(), "core API group only");
            assertTrue(r.getResourceNames() == null || r.getResourceNames().isEmpty());
            r.getResources().forEach(res -> verbs.computeIfAbsent(res, k -> new TreeSet<>()).addAll(r.getVerbs()));
        });
        assertEquals(Map.of("nodes", Set.of("get", "patch"), "nodes/status", Set.of("patch"), "pods", Set.of("get", "list"),
                "pods/eviction", Set.of("create"), "events", Set.of("create")), verbs);
        assertEquals(role.getMetadata().getName(), binding.getRoleRef().getName());
        assertEquals("gpu-agent", binding.getSubjects().getFirst().getName());
        assertEquals("gpu-agent", binding.getSubjects().getFirst().getNamespace());
    }

    private static void daemonSetServesWhateverTheGpus(DaemonSet ds, ConfigMap config) {
        PodSpec pod = ds.getSpec().getTemplate().getSpec();
        assertEquals("gpu-agent", pod.getServiceAccountName());
        assertEquals("true", pod.getNodeSelector().get("nvidia.com/gpu.present"));
        assertTrue(pod.getTolerations().stream().anyMatch(t -> t.getKey().equals("gpu-agent.io/unhealthy")
                && t.getOperator().equals("Exists") && t.getEffect() == null), "tolerates its own taint, every effect");
        assertTrue(pod.getSecurityContext().getRunAsNonRoot());
        assertEquals(65532L, pod.getSecurityContext().getRunAsUser());
        Container agent = pod.getContainers().stream().filter(c -> c.getName().equals("gpu-agent")).findFirst().orElseThrow();
        assertTrue(agent.getSecurityContext().getReadOnlyRootFilesystem());
        assertFalse(agent.getSecurityContext().getAllowPrivilegeEscalation());
        assertEquals(List.of("ALL"), agent.getSecurityContext().getCapabilities().getDrop());
        assertTrue(agent.getSecurityContext().getCapabilities().getAdd() == null
                || agent.getSecurityContext().getCapabilities().getAdd().isEmpty());
        EnvVar node = agent.getEnv().stream().filter(e -> e.getName().equals("NODE_NAME")).findFirst().orElseThrow();
        assertEquals("spec.nodeName", node.getValueFrom().getFieldRef().getFieldPath());
        // Probes: "the agent serves" only. /health and /q/health/ready answer 503 for a bad GPU.
        for (Probe probe : List.of(agent.getLivenessProbe(), agent.getReadinessProbe(), agent.getStartupProbe())) {
            assertNotNull(probe);
            assertEquals("/q/health/live", probe.getHttpGet().getPath());
            assertEquals("metrics", probe.getHttpGet().getPort().getStrVal());
        }
        assertEquals(9400, agent.getPorts().getFirst().getContainerPort());
        assertNotNull(agent.getResources().getLimits().get("memory"));
        assertNotNull(agent.getResources().getRequests().get("memory"));
        Map<String, String> hostPaths = pod.getVolumes().stream().filter(v -> v.getHostPath() != null)
                .collect(Collectors.toMap(Volume::getName, v -> v.getHostPath().getPath()));
        assertEquals(Set.of("state", "gpu-driver", "pod-resources"), hostPaths.keySet());
        assertEquals("/var/lib/kubelet/pod-resources", hostPaths.get("pod-resources"));
        assertEquals(config.getMetadata().getName(), pod.getVolumes().stream().filter(v -> v.getConfigMap() != null)
                .findFirst().orElseThrow().getConfigMap().getName(), "the generated ConfigMap's hashed name");
        // Every init container runs the image's own prepare-dir as root with CHOWN and FOWNER, nothing more.
        pod.getInitContainers().forEach(c -> {
            assertEquals("prepare-dir", c.getArgs().getFirst());
            assertEquals(Set.of("CHOWN", "FOWNER"), Set.copyOf(c.getSecurityContext().getCapabilities().getAdd()));
            assertTrue(c.getSecurityContext().getReadOnlyRootFilesystem());
        });
    }

    /**
     * The component for the kubelet's root-only socket, which both overlays include, changes the agent's user and
     * nothing else: the observe overlay is the base plus that component.
     */
    @org.junit.jupiter.api.Test
    void theKubeletSocketComponentChangesOnlyTheUser() throws Exception {
        List<HasMetadata> with = render("observe");
        List<HasMetadata> without = render("base", KUSTOMIZE_ROOT.resolve("base"));
        DaemonSet ds = with.stream().filter(DaemonSet.class::isInstance).map(DaemonSet.class::cast).findFirst().orElseThrow();
        var sc = ds.getSpec().getTemplate().getSpec().getContainers().getFirst().getSecurityContext();
        assertEquals(0L, sc.getRunAsUser());
        assertFalse(sc.getRunAsNonRoot());
        assertEquals(List.of("ALL"), sc.getCapabilities().getDrop());
        assertTrue(sc.getCapabilities().getAdd() == null || sc.getCapabilities().getAdd().isEmpty());
        assertTrue(sc.getReadOnlyRootFilesystem());
        assertFalse(sc.getAllowPrivilegeEscalation());
        // Everything else as in the overlay alone.
        sc.setRunAsUser(null);
        sc.setRunAsGroup(null);
        sc.setRunAsNonRoot(true);
        assertEquals(without, with);
    }

    /** The enforce overlay replaces the base's agent.properties whole: it must keep every other base setting. */
    @org.junit.jupiter.api.Test
    void enforceKeepsTheBaseSettings() throws IOException {
        Properties base = new Properties();
        Properties enforce = new Properties();
        try (var in = Files.newBufferedReader(KUSTOMIZE_ROOT.resolve("base/agent.properties"))) {
            base.load(in);
        }
        try (var in = Files.newBufferedReader(KUSTOMIZE_ROOT.resolve("overlays/enforce/agent.properties"))) {
            enforce.load(in);
        }
        base.stringPropertyNames().stream().filter(k -> !k.equals("gpu-agent.recovery.mode"))
                .forEach(k -> assertEquals(base.getProperty(k), enforce.getProperty(k), k + " in overlays/enforce/agent.properties"));
    }

    private static void enforceHasItsPrivateOperatorToken(DaemonSet ds, Properties properties) {
        PodSpec pod = ds.getSpec().getTemplate().getSpec();
        assertEquals("/run/gpu-agent/operator-token", properties.getProperty("gpu-agent.auth.operator-token-file"));
        assertTrue(pod.getInitContainers().stream().anyMatch(c -> c.getArgs().contains("/run/gpu-agent")
                && c.getArgs().stream().anyMatch(a -> a.endsWith("=operator-token"))));
        assertEquals("gpu-agent-operator-token", pod.getVolumes().stream().filter(v -> v.getSecret() != null)
                .findFirst().orElseThrow().getSecret().getSecretName());
    }

    /** {@code kubectl kustomize kubernetes/overlays/<overlay>}, each object parsed strictly by its model class. */
    private static List<HasMetadata> render(String overlay) throws Exception {
        return render(overlay, KUSTOMIZE_ROOT.resolve("overlays").resolve(overlay));
    }

    private static List<HasMetadata> render(String overlay, Path dir) throws Exception {
        String yaml = kustomize(dir);
        List<HasMetadata> out = new ArrayList<>();
        for (JsonNode doc : new YAMLMapper().readerFor(JsonNode.class).readValues(yaml).readAll().stream()
                .map(JsonNode.class::cast).toList()) {
            String key = doc.path("apiVersion").asText() + "/" + doc.path("kind").asText();
            Class<?> type = KINDS.get(key);
            assertNotNull(type, overlay + " renders " + key + ", which this test does not know");
            Object parsed = STRICT.treeToValue(doc, type);
            List<String> unknown = new ArrayList<>();
            unknownFields(parsed, key + " " + doc.path("metadata").path("name").asText(), unknown);
            assertEquals(List.of(), unknown, overlay + ": fields the Kubernetes API does not know");
            out.add((HasMetadata) parsed);
        }
        return out;
    }

    /**
     * fabric8's model classes keep fields they do not know in {@code additionalProperties} instead of failing, so
     * FAIL_ON_UNKNOWN_PROPERTIES alone passes a typo: every such map in the parsed tree must be empty.
     */
    static void unknownFields(Object o, String path, List<String> unknown) throws ReflectiveOperationException {
        switch (o) {
            case null -> {
            }
            case Collection<?> c -> {
                int i = 0;
                for (Object e : c) {
                    unknownFields(e, path + "[" + i++ + "]", unknown);
                }
            }
            case Map<?, ?> m -> {
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    unknownFields(e.getValue(), path + "." + e.getKey(), unknown);
                }
            }
            default -> {
                if (!o.getClass().getName().startsWith("io.fabric8.") || o.getClass().isEnum()) {
                    return;
                }
                for (Method m : o.getClass().getMethods()) {
                    if (m.getParameterCount() != 0 || !m.getName().startsWith("get") || Modifier.isStatic(m.getModifiers())
                            || m.getDeclaringClass() == Object.class) {
                        continue;
                    }
                    Object value;
                    try {
                        value = m.invoke(o);
                    } catch (InvocationTargetException e) {
                        continue;   // a derived getter that needs a field the object does not have
                    }
                    if (m.getName().equals("getAdditionalProperties")) {
                        if (value instanceof Map<?, ?> extra && !extra.isEmpty()) {
                            unknown.add(path + ": " + extra.keySet());
                        }
                    } else {
                        unknownFields(value, path + "." + m.getName().substring(3), unknown);
                    }
                }
            }
        }
    }

    private static String kustomize(Path dir) throws IOException, InterruptedException {
        Path kubectl = kubectl();
        Process p = new ProcessBuilder(kubectl.toString(), "kustomize", dir.toString()).redirectErrorStream(false).start();
        String out;
        String err;
        try (var o = p.getInputStream(); var e = p.getErrorStream()) {
            p.getOutputStream().close();
            out = new String(o.readAllBytes(), StandardCharsets.UTF_8);
            err = new String(e.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "kubectl kustomize " + dir + " did not finish");
        assertEquals(0, p.exitValue(), "kubectl kustomize " + dir + " failed: " + err);
        return out;
    }

    private static Path kubectl() {
        for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
            Path p = Path.of(d, "kubectl");
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        if (Boolean.getBoolean("kubectl.required")) {
            throw new AssertionError("kubectl is not on PATH; install it (Debian: apt-get install kubernetes-client, "
                    + "or the kubectl package of Kubernetes' own apt repository; docs/kubernetes.md)");
        }
        assumeTrue(false, "kubectl is not on PATH: the manifests in kubernetes/ were not rendered (docs/kubernetes.md)");
        return null;
    }
}
