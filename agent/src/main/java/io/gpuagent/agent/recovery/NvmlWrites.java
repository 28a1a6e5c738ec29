package io.gpuagent.agent.recovery;

import io.gpuagent.agent.nvml.NvmlConnector;
import io.gpuagent.nvml.GpuDevice;
import io.gpuagent.nvml.Nvml;
import io.gpuagent.nvml.NvmlException;
import io.gpuagent.nvml.NvmlReturn;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.eclipse.microprofile.faulttolerance.Bulkhead;
import org.eclipse.microprofile.faulttolerance.CircuitBreaker;
import org.eclipse.microprofile.faulttolerance.Retry;
import org.eclipse.microprofile.faulttolerance.Timeout;

/**
 * The NVML control calls recovery makes (power limit, clocks), each bounded, retried on transient errors,
 * behind a circuit breaker and a bulkhead. NO_PERMISSION (not root), NOT_SUPPORTED, a lost GPU and a bad
 * argument are final ({@link Refused}): retrying cannot help, and the audit line says what to do.
 */
@ApplicationScoped
public class NvmlWrites {

    /** NVML refused for good; the message says why and what to do. */
    public static class Refused extends RuntimeException {
        public Refused(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** NVML said NO_PERMISSION: the agent lacks {@link Privilege#CAP_SYS_ADMIN}; the step is rejected, not failed. */
    public static final class NoPermission extends Refused {
        public NoPermission(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final NvmlConnector nvml;

    public NvmlWrites(NvmlConnector nvml) {
        this.nvml = nvml;
    }

    /** A GPU's power limits now, in milliwatts: the one in force, the default, and the lowest it accepts. */
    public record PowerLimits(long limitMw, long defaultMw, long minMw) {
    }

    /** The GPU's power limits now. */
    @Timeout(10_000)
    @Retry(maxRetries = 2, delay = 200, abortOn = Refused.class)
    @CircuitBreaker(requestVolumeThreshold = 8, failureRatio = 0.75, delay = 30_000, skipOn = Refused.class)
    @Bulkhead(4)
    public PowerLimits powerLimits(String uuid) {
        GpuDevice d = device(uuid);
        try {
            return new PowerLimits(d.powerLimitMw(), d.powerDefaultLimitMw(), d.powerLimitConstraints().minMw());
        } catch (NvmlException e) {
            throw classify(e, "reading the power limits");
        }
    }

    @Timeout(10_000)
    @Retry(maxRetries = 2, delay = 200, abortOn = Refused.class)
    @CircuitBreaker(requestVolumeThreshold = 8, failureRatio = 0.75, delay = 30_000, skipOn = Refused.class)
    @Bulkhead(4)
    public void setPowerLimit(String uuid, long milliwatts) {
        try {
            device(uuid).setPowerLimitMw(milliwatts);
        } catch (NvmlException e) {
            throw classify(e, "setting the power limit to " + milliwatts + " mW");
        }
    }

    /**
     * The PIDs NVML lists on the GPU now (compute and graphics, each once). Signals go only to these, read
     * right before: the snapshot's list is stale exactly when a hung GPU triggers a drain, and a PID from it
     * may belong to another process by then.
     */
    @Timeout(10_000)
    @Retry(maxRetries = 1, delay = 200, abortOn = Refused.class)
    @Bulkhead(4)
    public Set<Long> processIds(String uuid) {
        GpuDevice d = device(uuid);
        try {
            Set<Long> pids = new LinkedHashSet<>();
            d.computeProcesses().forEach(p -> pids.add((long) p.pid()));
            d.graphicsProcesses().forEach(p -> pids.add((long) p.pid()));
            return pids;
        } catch (NvmlException e) {
            throw classify(e, "listing the GPU's processes");
        }
    }

    /** Resets locked GPU and memory clocks and application clocks; returns what each call said. */
    @Timeout(10_000)
    @Retry(maxRetries = 2, delay = 200, abortOn = Refused.class)
    @CircuitBreaker(requestVolumeThreshold = 8, failureRatio = 0.75, delay = 30_000, skipOn = Refused.class)
    @Bulkhead(4)
    public List<String> resetClocks(String uuid) {
        GpuDevice d = device(uuid);
        record Call(String name, Runnable run) {
        }
        List<String> done = new ArrayList<>();
        int unsupported = 0;
        for (Call c : List.of(new Call("locked GPU clocks", d::resetGpuLockedClocks),
                new Call("locked memory clocks", d::resetMemoryLockedClocks),
                new Call("application clocks", d::resetApplicationsClocks))) {
            try {
                c.run().run();
                done.add(c.name() + " reset");
            } catch (NvmlException e) {
                if (!e.notSupported()) {
                    throw classify(e, "resetting " + c.name());
                }
                unsupported++;
                done.add(c.name() + " not supported");
            }
        }
        if (unsupported == 3) {
            throw new Refused("this GPU supports none of the clock resets (NOT_SUPPORTED)", null);
        }
        return done;
    }

    /**
     * Throws {@link Refused} unless NVML is held and knows the GPU: a privileged step asked of gpu-agent-privileged
     * waits, as an in-process write does, while NVML is released for a reset (its nvidia-smi would hold the
     * driver open and make that reset fail).
     */
    public void requireDevice(String uuid) {
        device(uuid);
    }

    private GpuDevice device(String uuid) {
        Nvml n = nvml.current().orElseThrow(() -> new Refused(nvml.releasedReason() != null
                ? nvml.releasedReason() + "; try again once the reset is done"
                : "NVML is not loaded; nothing to write to", null));
        try {
            return n.deviceByUuid(uuid);
        } catch (NvmlException e) {
            throw classify(e, "opening GPU " + uuid);
        }
    }

    private static RuntimeException classify(NvmlException e, String what) {
        NvmlReturn r = e.result();
        if (e.noPermission()) {
            return new NoPermission(what + ": NVML says NO_PERMISSION; the agent needs CAP_SYS_ADMIN for power and "
                    + "clock control: " + Privilege.FIX, e);
        }
        if (e.notSupported()) {
            return new Refused(what + ": NOT_SUPPORTED on this GPU", e);
        }
        if (e.gpuLost()) {
            return new Refused(what + ": the GPU is lost (GPU_IS_LOST)", e);
        }
        if (r == NvmlReturn.INVALID_ARGUMENT || r == NvmlReturn.NOT_FOUND) {
            return new Refused(what + ": NVML says " + r + " (" + e.getMessage() + ")", e);
        }
        return e;
    }
}
