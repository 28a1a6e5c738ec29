package io.gpuagent.agent.health;

import io.gpuagent.agent.health.detect.HealthState;
import io.gpuagent.agent.health.detect.RepairAction;
import java.time.Instant;
import java.util.List;

/**
 * The judged health of one device a job can be given: a whole GPU ({@link GpuHealth}) or a MIG device
 * ({@link MigHealth}). What placement asks of either: {@link HealthModel#device(String)} answers it by the UUID a
 * lease hands out ({@code GPU-...} or {@code MIG-...}).
 */
public sealed interface DeviceHealth permits GpuHealth, MigHealth {

    /** {@code GPU-...} or {@code MIG-...}, as the driver writes it. */
    String uuid();

    /** The state placement goes by: for a MIG device, the worse of its own and its GPU's. */
    HealthState state();

    /** Since when the device has been in {@link #state()}. */
    Instant since();

    /** The device's own reasons, worst first (a MIG device's GPU's reasons are in {@link MigHealth#inherited()}). */
    List<Reason> reasons();

    /** The repair advice of the reasons behind {@link #state()}, mildest first. */
    List<RepairAction> actions();
}
