package io.gpuagent.agent.lease;

import io.gpuagent.agent.health.GpuHealth;
import io.gpuagent.agent.health.HealthEngine;
import io.gpuagent.agent.health.HealthListener;
import io.gpuagent.agent.health.HealthModel;
import io.gpuagent.agent.health.detect.HealthState;
import io.gpuagent.agent.journal.AgentEvent;
import io.quarkus.runtime.Startup;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

/**
 * A leased GPU that turns UNHEALTHY or LOST raises a {@code LEASED_GPU_UNHEALTHY} event naming the lease
 * and the job (the notifier forwards it; the coordinator sees the GPU's health in the next inventory).
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
        leases.leaseOn(gpu.uuid()).ifPresent(held -> {
            String message = "GPU " + gpu.index() + " (" + gpu.uuid() + "), leased to job " + held.jobId() + " (lease "
                    + held.leaseId() + "), is " + gpu.state() + ": " + change.message()
                    + "; the job should checkpoint and stop using it, the lease stays until it is released or drained";
            LOG.warn(message);
            events.post(AgentEvent.of(gpu.index(), gpu.uuid(), LeaseEvents.KIND, "lease",
                    LeaseEvents.LEASED_GPU_UNHEALTHY, message));
        });
    }

    private static boolean bad(HealthState state) {
        return state == HealthState.UNHEALTHY || state == HealthState.LOST;
    }
}
