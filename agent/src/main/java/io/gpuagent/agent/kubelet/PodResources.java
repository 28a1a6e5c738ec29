package io.gpuagent.agent.kubelet;

import io.gpuagent.agent.kubelet.podresources.AllocatableResourcesResponse;
import io.gpuagent.agent.kubelet.podresources.ListPodResourcesResponse;

/**
 * The kubelet's pod-resources API as the agent uses it: one call at a time, from one thread (the
 * refresher's). {@link GrpcPodResources} is the real one; tests serve the same protocol from a fake kubelet.
 */
public interface PodResources extends AutoCloseable {

    /** Every pod with what its containers were given; a failure says why in a closed set of reasons. */
    ListPodResourcesResponse list() throws KubeletFailure;

    /**
     * The devices the kubelet offers for allocation on this node ({@code GetAllocatableResources}): those its
     * device plugins registered, less the ones they reported unhealthy.
     */
    AllocatableResourcesResponse allocatable() throws KubeletFailure;

    /** Drops the connection; a later {@link #list()} opens a new one. */
    @Override
    void close();
}
