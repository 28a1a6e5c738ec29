package io.gpuagent.agent.kubernetes;

import io.gpuagent.agent.health.detect.HealthState;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;

/**
 * {@code gpu-agent.kubernetes.*}: GPU health in the node's condition and taint, Kubernetes Events, and the
 * Kubernetes side of the cordon and drain steps (docs/kubernetes.md#health-in-the-node). Off by default: then no
 * client is created and nothing connects.
 */
@ConfigMapping(prefix = "gpu-agent.kubernetes")
public interface KubernetesConfig {

    /** Write health to the API server (needs the service account and the RBAC of docs/kubernetes.md). */
    @WithDefault("false")
    boolean enabled();

    /**
     * The node this agent runs on; absent: the {@code NODE_NAME} environment variable (the DaemonSet sets it from
     * the downward API, {@code spec.nodeName}).
     */
    Optional<String> nodeName();

    /** The GPU (or MIG device) states that put the taint on the node. */
    @WithDefault("UNHEALTHY,LOST")
    Set<HealthState> taintStates();

    /** The taint's effect: {@code NoSchedule}, {@code PreferNoSchedule} or {@code NoExecute}. */
    @WithDefault("NoSchedule")
    String taintEffect();

    /** {@code condition-and-taint}, or {@code condition-only} (the scheduler is left to a person or another tool). */
    @WithDefault("condition-and-taint")
    Mode mode();

    /**
     * A kubeconfig file to use instead of the in-cluster service account (tests, or an agent run outside the
     * cluster). Absent: the pod's service account token and CA, as every in-cluster client finds them.
     */
    Optional<Path> kubeconfig();

    /** How often the condition's {@code lastHeartbeatTime} is refreshed while nothing changes. */
    @WithDefault("60s")
    Duration heartbeatInterval();

    /** Longest wait between tries while the API server is down or refusing (doubling from one second). */
    @WithDefault("60s")
    Duration retryMax();

    /** Longest one request to the API server may take. */
    @WithDefault("10s")
    Duration requestTimeout();

    /** Post Kubernetes Events (involved object: the node) for health changes and recovery actions. */
    @WithDefault("true")
    boolean events();

    enum Mode {
        CONDITION_AND_TAINT, CONDITION_ONLY
    }
}
