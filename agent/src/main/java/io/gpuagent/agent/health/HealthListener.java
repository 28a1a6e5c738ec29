package io.gpuagent.agent.health;

import io.gpuagent.agent.health.detect.XidClass;

/**
 * Told about every judgement that matters to someone acting on health (the recovery engine, leases).
 *
 * <p>Runs on the judging thread (sampler or event thread) while the health model's lock is held, in the
 * order the changes were recorded: be quick, hand the work off (a queue, an executor), never block, and
 * never call back into {@link HealthModel}. A listener that throws is logged and kept.
 */
public interface HealthListener {

    /** A GPU's state changed, or an operator or a recovery action cleared it ({@code change.detector()}). */
    void onChange(HealthEngine.Change change);

    /**
     * A MIG device's state changed (docs/faults.md#mig): by an XID the driver attributed to it, by its GPU's
     * state (every MIG device on a GPU follows the GPU's faults), or a clear. A GPU's own changes come to
     * {@link #onChange} only, once, however many MIG devices follow them.
     */
    default void onMigChange(HealthEngine.MigChange change) {
    }

    /**
     * An XID arrived that was judged on a GPU. {@code gpu} is the GPU's health after the XID was judged (so a
     * fatal XID on a GPU that was already UNHEALTHY still arrives here, though no state changed);
     * {@code xidClass} is its class under the configured table. An XID judged on MIG devices only (an
     * application's fault on one instance, docs/faults.md#xid-scope) does not come here: a GPU action is not the
     * answer to it; its state changes come to {@link #onMigChange}.
     */
    default void onXid(GpuHealth gpu, int xid, XidClass xidClass) {
    }

    /**
     * The node's verdict changed (a node check, docs/node-health.md), or an operator cleared it. The agent cannot
     * repair a fabric or a host: listeners cordon and notify.
     */
    default void onNodeChange(NodeJudge.Change change) {
    }
}
