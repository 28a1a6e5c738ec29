package io.gpuagent.agent.auth;

/**
 * Who may call what (docs/security.md). Each role has its own credential, a bearer token in a file of its
 * own; a token grants only its role, plus reading.
 */
public enum AccessRole {
    /** A person or tool acting on GPUs: recovery actions, health clear, breaker reset, cordon, forgetting a node. */
    OPERATOR("operator-token-file"),
    /** A scheduler (the Slurm prolog/epilog, or whoever asks the coordinator): leases and placements. */
    SCHEDULER("scheduler-token-file"),
    /** The coordinator taking and releasing leases on agents. */
    COORDINATOR("coordinator-token-file"),
    /** An agent heartbeating the coordinator; one credential per node, bound to its name. */
    NODE("node-token-dir"),
    /** Reading, when {@code gpu-agent.auth.readers-require-token=true}; any other role may read too. */
    READER("reader-token-file");

    private final String key;

    AccessRole(String key) {
        this.key = key;
    }

    /** The configuration key of this role's credential. */
    public String configKey() {
        return "gpu-agent.auth." + key;
    }

    /** Lower case, as messages and docs name it. */
    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
