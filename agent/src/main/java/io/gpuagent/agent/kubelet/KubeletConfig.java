package io.gpuagent.agent.kubelet;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * {@code gpu-agent.kubelet.*}: pod attribution from the kubelet's pod-resources API (docs/kubernetes.md,
 * "Pod attribution").
 */
@ConfigMapping(prefix = "gpu-agent.kubelet")
public interface KubeletConfig {

    /** Ask the kubelet which pods hold which GPUs, and label the GPU series with them. */
    @WithDefault("false")
    boolean enabled();

    /** The kubelet's pod-resources socket (mounted into the agent's pod as a hostPath). */
    @WithDefault("/var/lib/kubelet/pod-resources/kubelet.sock")
    Path socket();

    /** How often the agent asks; labels follow a pod's start or end within this. */
    @WithDefault("10s")
    Duration refreshInterval();

    /** How long one call may take before it counts as failed (the last good map stays). */
    @WithDefault("5s")
    Duration deadline();

    /**
     * The largest answer accepted, in bytes; a larger one is refused whole (the last good map stays). A node's
     * answer is usually tens of KiB; 4 MiB (gRPC's own default) leaves room and stays small beside the agent's
     * 64 MB heap, which holds a parsed answer while it is mapped.
     */
    @WithDefault("4194304")
    int maxAnswerBytes();

    /**
     * The extended resources that are GPUs: exact names, or a prefix ending in {@code *}. The NVIDIA device plugin
     * reports whole GPUs as {@code nvidia.com/gpu} and MIG devices as {@code nvidia.com/mig-<profile>}.
     */
    @WithDefault("nvidia.com/gpu,nvidia.com/mig-*")
    List<String> resourceNames();

    /**
     * Which form of device id the device plugin reports, as dcgm-exporter's {@code --kubernetes-gpu-id-type}:
     * {@code uid} (GPU and MIG UUIDs, the NVIDIA device plugin's default) or {@code device-name}
     * ({@code nvidiaN} and {@code nvidiaN/giM}, GKE's device plugin).
     */
    @WithDefault("uid")
    GpuIdType gpuIdType();
}
