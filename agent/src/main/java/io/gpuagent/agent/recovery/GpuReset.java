package io.gpuagent.agent.recovery;

import io.gpuagent.agent.events.EventWatcher;
import io.gpuagent.agent.nvml.NvmlConnector;
import io.gpuagent.agent.sampler.SamplerService;
import io.gpuagent.nvml.DeviceHolders;
import io.gpuagent.nvml.Nvml;
import io.gpuagent.nvml.NvmlException;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import org.jboss.logging.Logger;

/**
 * The reset protocol. The driver refuses to reset a GPU while any process has it open, a monitoring one
 * included, so the agent first lets go of everything it holds on the node, then resets, then comes back:
 * <ol>
 *   <li>stop handing out NVML ({@link NvmlConnector#release}); the sampler publishes the last readings as
 *       STALE with the reason, and frees its GPM samples ({@link SamplerService#sweepNow});</li>
 *   <li>the event watcher leaves its wait and frees its event set (within one wait);</li>
 *   <li>{@code nvmlShutdown}, once the calls in flight have returned (a call still hung in the driver after
 *       the guard's wait ends the reset here: the driver would refuse it anyway);</li>
 *   <li>the reset: the reset command, by UUID or PCI bus id (indices can change across a reset), or a request
 *       to gpu-agent-privileged ({@link PrivilegedSocket});</li>
 *   <li>{@code nvmlInit} again; the sampler and the event watcher see a new instance and rebuild their
 *       index and UUID caches and registrations. The verify step then waits for fresh readings and events.</li>
 * </ol>
 * One reset at a time on a node: every GPU's readings are stale while NVML is released.
 */
@ApplicationScoped
public class GpuReset {

    private static final Logger LOG = Logger.getLogger(GpuReset.class);
    /** The event watcher leaves a wait within {@code EventWatcher.WAIT_MS}; this is that with room to spare. */
    static final long EVENTS_RELEASE_MS = 3_000;

    private final NvmlConnector nvml;
    private final SamplerService sampler;
    private final EventWatcher events;
    private final DeviceHolders holders = DeviceHolders.system();
    private final ReentrantLock oneAtATime = new ReentrantLock();

    public GpuReset(NvmlConnector nvml, SamplerService sampler, EventWatcher events) {
        this.nvml = nvml;
        this.sampler = sampler;
        this.events = events;
    }

    /** The reset itself, run while NVML is released. */
    @FunctionalInterface
    interface Reset {
        StepOutcome run() throws IOException, InterruptedException;
    }

    /** Whether driver events are registered again (the verify step waits for it after a reset). */
    public boolean watchingEvents() {
        return events.watching();
    }

    /** Releases NVML, runs {@code reset}, initialises NVML again. The outcome names other holders on failure. */
    StepOutcome run(int index, String uuid, Reset reset) throws IOException, InterruptedException {
        oneAtATime.lockInterruptibly();
        try {
            Optional<String> notReleased = release("NVML released while GPU " + index + " (" + uuid + ") is reset");
            if (notReleased.isPresent()) {
                return StepOutcome.failed(notReleased.get());
            }
            StepOutcome o = reset.run();
            if (o.result() != Result.FAILED) {
                return o;
            }
            return StepOutcome.failed(o.detail() + "; processes holding NVIDIA devices: "
                    + DeviceHolders.describe(holders.scan()) + " (the driver refuses a reset while any process has "
                    + "the GPU open: stop DCGM's nv-hostengine, other exporters and jobs on it)");
        } finally {
            try {
                if (!nvml.reacquire()) {
                    LOG.warnf("NVML did not initialise again after the reset of GPU %d: %s; retrying in the background",
                            index, nvml.downReason());
                }
            } finally {
                oneAtATime.unlock();
            }
        }
    }

    /** Steps 1-3; a reason when NVML could not be let go of cleanly (it is then kept released until reacquire). */
    private Optional<String> release(String reason) {
        Optional<Nvml> held = nvml.release(reason);
        LOG.infof("%s: releasing NVML (sampler, event watcher, then nvmlShutdown)", reason);
        sampler.sweepNow();
        long until = System.nanoTime() + EVENTS_RELEASE_MS * 1_000_000;
        while (events.holdsNvml() && System.nanoTime() < until) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Optional.of("interrupted while the event watcher let go of NVML");
            }
        }
        if (held.isEmpty()) {
            return Optional.empty();   // NVML was not up: nothing of ours holds the GPU
        }
        try {
            held.get().close();
            return Optional.empty();
        } catch (NvmlException e) {
            return Optional.of("NVML could not be released: " + e.getMessage()
                    + "; a call is hung in the driver, which would refuse the reset too");
        }
    }
}
