package io.gpuagent.agent.http;

import io.gpuagent.agent.coordinator.Coordinator;
import io.gpuagent.agent.http.problem.Problem;
import jakarta.annotation.Priority;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.ext.Provider;

/** 404 for the coordinator's endpoints on a node in the agent role; runs before the token check. */
@Provider
@CoordinatorOnly
@Priority(Priorities.AUTHENTICATION - 100)
public class CoordinatorOnlyFilter implements ContainerRequestFilter {

    static final String NOT_HERE = "this node runs with gpu-agent.role=agent; /v1/nodes and /v1/placements are served "
            + "by the coordinator (gpu-agent.role=coordinator)";

    private final Coordinator coordinator;

    public CoordinatorOnlyFilter(Coordinator coordinator) {
        this.coordinator = coordinator;
    }

    @Override
    public void filter(ContainerRequestContext request) {
        if (!coordinator.active()) {
            request.abortWith(Problem.notFound(NOT_HERE));
        }
    }
}
