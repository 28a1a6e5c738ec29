package io.gpuagent.agent.scan;

/**
 * One line of {@code gpu-agent scan}'s table: a check (a GPU detector or a node check), what it is about (the
 * node, {@code GPU 3 (GPU-...)}, {@code ib_port:mlx5_0/1}), its state, and when not HEALTHY why and the fix.
 */
public record ScanRow(String check, String subject, String state, String reason, String fix) {

    public boolean healthy() {
        return state.equals("HEALTHY");
    }
}
