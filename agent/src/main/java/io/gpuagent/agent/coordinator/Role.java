package io.gpuagent.agent.coordinator;

/** What this process is: a GPU host's agent (the default) or the placement coordinator ({@code gpu-agent.role}). */
public enum Role {
    AGENT, COORDINATOR
}
