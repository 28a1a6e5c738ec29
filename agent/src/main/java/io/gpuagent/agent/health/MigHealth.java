package io.gpuagent.agent.health;

import io.gpuagent.agent.health.detect.HealthState;
import io.gpuagent.agent.health.detect.RepairAction;
import java.time.Instant;
import java.util.List;

/**
 * One MIG device's judged health (docs/faults.md#mig). Its own reasons come from the XIDs the driver attributed to
 * its GPU or compute instance; everything physical is judged on its GPU, whose reasons it inherits: {@link #state()}
 * is the worse of its own and its GPU's state, so a GPU-wide fault marks every MIG device on the GPU while an
 * application's XID on one leaves its siblings alone.
 *
 * @param uuid              {@code MIG-...}, the key (GPU instance ids are reused after a reconfiguration)
 * @param address           {@code <gpu>/<gi>} or {@code <gpu>/<gi>/<ci>} (the API's short name)
 * @param gpu               the parent GPU's index
 * @param parentUuid        the parent GPU's {@code GPU-...}
 * @param gpuInstanceId     its GPU instance
 * @param computeInstanceId its compute instance within that GPU instance
 * @param profile           its GPU instance profile, e.g. {@code 1g.10gb}
 * @param state             the worse of its own reasons' state and its GPU's state
 * @param since             since when it has been in {@code state}
 * @param reasons           its own reasons, worst first
 * @param inherited         its GPU's reasons, worst first (empty while the GPU has none)
 * @param actions           the repair advice of both, mildest first (a reset is always the whole GPU's)
 */
public record MigHealth(String uuid, String address, int gpu, String parentUuid, int gpuInstanceId,
                        int computeInstanceId, String profile, HealthState state, Instant since, List<Reason> reasons,
                        List<Reason> inherited, List<RepairAction> actions) implements DeviceHealth {

    public MigHealth {
        reasons = List.copyOf(reasons);
        inherited = List.copyOf(inherited);
        actions = List.copyOf(actions);
    }

    /** The state its own reasons make, without its GPU's: what /health names it for. */
    public HealthState ownState() {
        HealthState worst = HealthState.HEALTHY;
        for (Reason r : reasons) {
            worst = worst.worst(r.state());
        }
        return state == HealthState.INITIALIZING ? state : worst;
    }

    /** Its worst reason, its own or inherited from its GPU, or null when it has none. */
    public Reason worstReason() {
        Reason own = reasons.isEmpty() ? null : reasons.getFirst();
        Reason gpuWide = inherited.isEmpty() ? null : inherited.getFirst();
        if (own == null || gpuWide == null) {
            return own != null ? own : gpuWide;
        }
        return gpuWide.state().ordinal() > own.state().ordinal() ? gpuWide : own;
    }
}
