package io.gpuagent.agent.health;

import io.gpuagent.agent.health.detect.HealthState;
import io.gpuagent.agent.health.detect.RepairAction;
import java.time.Instant;
import java.util.List;

/**
 * One GPU's judged health: its state, since when, every reason behind it (worst first; empty when HEALTHY)
 * and the repair actions those reasons suggest (mildest first; empty when there is nothing to do). A GPU in
 * MIG mode lists its MIG devices' health (GPU instance then compute instance order; empty otherwise); its own
 * state is what is physical and never includes theirs.
 */
public record GpuHealth(int index, String uuid, String name, HealthState state, Instant since, List<Reason> reasons,
                        List<RepairAction> actions, List<MigHealth> migDevices) implements DeviceHealth {

    public GpuHealth {
        reasons = List.copyOf(reasons);
        actions = List.copyOf(actions);
        migDevices = List.copyOf(migDevices);
    }

    public GpuHealth(int index, String uuid, String name, HealthState state, Instant since, List<Reason> reasons,
                     List<RepairAction> actions) {
        this(index, uuid, name, state, since, reasons, actions, List.of());
    }

    public GpuHealth(int index, String uuid, String name, HealthState state, Instant since, List<Reason> reasons) {
        this(index, uuid, name, state, since, reasons, List.of(), List.of());
    }

    /** The MIG device with this {@code MIG-} UUID on this GPU, or null. */
    public MigHealth migDevice(String migUuid) {
        for (MigHealth m : migDevices) {
            if (m.uuid().equals(migUuid)) {
                return m;
            }
        }
        return null;
    }
}
