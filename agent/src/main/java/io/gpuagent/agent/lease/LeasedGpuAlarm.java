package io.gpuagent.agent.lease;

import io.gpuagent.agent.health.GpuHealth;
import io.gpuagent.agent.health.HealthEngine;
import io.gpuagent.agent.health.HealthListener;
import io.gpuagent.agent.health.HealthModel;
import io.gpuagent.agent.health.MigHealth;
import io.gpuagent.agent.health.detect.HealthState;
import io.gpuagent.agent.journal.AgentEvent;
import io.quarkus.runtime.Startup;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

/**
 * A leased GPU (or a GPU with leased MIG devices) that turns UNHEALTHY or LOST raises a
 * {@code LEASED_GPU_UNHEALTHY} event naming each lease and its job (the notifier forwards it; the coordinator
 * sees the GPU's health in the next inventory).
 * The lease stays: whether to end it is the recovery engine's drain decision ({@link GpuLeases#endLeasesOn}).
 */
@Startup
@ApplicationScoped
public class LeasedGpuAlarm implements HealthListener {

    private static final Logger LOG = Logger.getLogger(LeasedGpuAlarm.class);

    private final GpuLeases leases;
    private final LeaseEvents events;

    public LeasedGpuAlarm(HealthModel health, GpuLeases leases, LeaseEvents events) {
        this.leases = leases;
        this.events = events;
        health.addListener(this);
    }

    /** On the judging thread under the health lock: reads the lease book's published state and hands off. */
    @Override
    public void onChange(HealthEngine.Change change) {
        GpuHealth gpu = change.gpu();
        if (!bad(gpu.state()) || bad(change.previous())) {
            return;
        }
        // A GPU in MIG mode: every lease on its MIG devices is hit too (the health model judges the GPU whole).
        boolean whole = leases.leaseOn(gpu.uuid()).isPresent();
        leases.leasesOn(gpu.uuid()).forEach(held -> {
            String message = "GPU " + gpu.index() + " (" + gpu.uuid() + "), "
                    + (whole ? "leased to job " : "with MIG devices leased to job ") + held.jobId() + " (lease "
                    + held.leaseId() + "), is " + gpu.state() + ": " + change.message()
                    + "; the job should checkpoint and stop using it, the lease stays until it is released or drained";
            LOG.warn(message);
            events.post(AgentEvent.of(gpu.index(), gpu.uuid(), LeaseEvents.KIND, "lease",
                    LeaseEvents.LEASED_GPU_UNHEALTHY, message));
        });
    }

    /**
     * A MIG device turned bad by its own reasons (an XID that named its instance): the lease on it, not its
     * siblings'. Its GPU's faults reach every lease on the GPU through {@link #onChange}.
     */
    @Override
    public void onMigChange(HealthEngine.MigChange change) {
        MigHealth device = change.device();
        if (!bad(device.ownState()) || bad(change.previous())) {
            return;
        }
        leases.leaseOn(device.uuid()).ifPresent(held -> {
            String message = "MIG device " + device.address() + " (" + device.uuid() + "), leased to job "
                    + held.jobId() + " (lease " + held.leaseId() + "), is " + device.state() + ": " + change.message()
                    + "; the job should checkpoint and stop using it, the lease stays until it is released or drained";
            LOG.warn(message);
            events.post(AgentEvent.of(device.gpu(), device.parentUuid(), LeaseEvents.KIND, "lease",
                    LeaseEvents.LEASED_GPU_UNHEALTHY, message));
        });
    }

    private static boolean bad(HealthState state) {
        return state == HealthState.UNHEALTHY || state == HealthState.LOST;
    }
}
