package io.gpuagent.agent.health.detect;

/**
 * A node-level detector's {@link Finding} with what it is about and the node check it belongs to (one of
 * {@link NodeCheck}, a bounded set: the label of {@code gpu_agent_node_check{check}}).
 */
public record NodeFinding(NodeCheck check, Subject subject, Finding finding) {

    /** Reasons are keyed by subject, detector and code: the same port down again refreshes its reason. */
    public String key() {
        return subject.key() + '/' + finding.key();
    }
}
