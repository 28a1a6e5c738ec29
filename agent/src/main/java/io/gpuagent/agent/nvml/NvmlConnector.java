package io.gpuagent.agent.nvml;

import io.gpuagent.agent.AgentConfig;
import io.gpuagent.exporter.NvmlSource;
import io.gpuagent.nvml.Nvml;
import io.gpuagent.nvml.NvmlException;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.faulttolerance.api.Guard;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.jboss.logging.Logger;

/**
 * Loads and initialises NVML, and keeps trying in the background while it cannot: the agent starts and
 * answers without a driver, and recovers by itself once one appears (e.g. after the driver is installed).
 *
 * <p>It also lets go of NVML on purpose for a GPU reset ({@link #release}, {@link #reacquire}): the driver
 * refuses a reset while any process holds the GPU, this one included. At shutdown it is the last to stop
 * ({@link ShutdownOrder#NVML}): the event watcher, the sampler and recovery stop first.
 */
@ApplicationScoped
public class NvmlConnector implements NvmlSource {

    private static final Logger LOG = Logger.getLogger(NvmlConnector.class);

    private final AgentConfig.Nvml config;
    private final AtomicReference<Nvml> current = new AtomicReference<>();
    private volatile String downReason = "NVML not loaded yet";
    private volatile boolean closed;
    private volatile String releasedReason;
    private Thread connectThread;
    private final List<Runnable> openedListeners = new CopyOnWriteArrayList<>();

    public NvmlConnector(AgentConfig config) {
        this.config = config.nvml();
    }

    void start(@Observes StartupEvent event) {
        if (!tryOpen()) {
            connectInBackground();
        }
    }

    private synchronized void connectInBackground() {
        if (closed || (connectThread != null && connectThread.isAlive())) {
            return;
        }
        connectThread = Thread.ofPlatform().name("nvml-connect").daemon().start(this::connectLoop);
    }

    void stop(@Observes @Priority(ShutdownOrder.NVML) ShutdownEvent event) {
        closed = true;
        Thread t;
        synchronized (this) {
            t = connectThread;
        }
        if (t != null) {
            t.interrupt();
        }
        Nvml nvml = current.getAndSet(null);
        if (nvml != null) {
            try {
                nvml.close();   // waits for calls still in flight (bounded): never nvmlShutdown under one
            } catch (NvmlException e) {
                LOG.warnf("NVML was not shut down: %s; the process exits with it initialised", e.getMessage());
            }
        }
    }

    /**
     * Stops handing out NVML, for a GPU reset: {@link #current()} is empty and {@link #releasedReason()} says
     * why (the sampler serves the last readings as stale meanwhile). Returns the instance, still initialised,
     * for the caller to close once its users have let go; empty when NVML was not up.
     */
    public Optional<Nvml> release(String reason) {
        releasedReason = reason;
        return Optional.ofNullable(current.getAndSet(null));
    }

    /** Initialises NVML again after {@link #release}; on failure keeps trying in the background. */
    public boolean reacquire() {
        // Opened before the reason is cleared: in between, the sampler would see NVML neither up nor released
        // and publish an empty "NVML is not available" snapshot (/health 503, gpu_agent_nvml_up 0) for a sweep.
        boolean open = !closed && tryOpen();
        releasedReason = null;
        if (!open && !closed) {
            connectInBackground();
        }
        return open;
    }

    @Override
    public String releasedReason() {
        return current.get() == null ? releasedReason : null;
    }

    @Override
    public Optional<Nvml> current() {
        return Optional.ofNullable(current.get());
    }

    @Override
    public String downReason() {
        return current.get() != null ? null : downReason;
    }

    /** Runs {@code listener} each time NVML is opened (at start, after a retry, after a reset's re-init). */
    public void onOpened(Runnable listener) {
        openedListeners.add(listener);
    }

    /** The library path or soname in use, for messages. */
    public String library() {
        return config.library();
    }

    /** Retries with exponential backoff (SmallRye Fault Tolerance) until NVML opens or the agent stops. */
    private void connectLoop() {
        Guard guard = Guard.create().withDescription("nvml-connect")
                .withRetry()
                .maxRetries(-1)
                .maxDuration(0, ChronoUnit.MILLIS)
                .delay(config.retryInitialDelay().toMillis(), ChronoUnit.MILLIS)
                .whenException(e -> !closed)
                .withExponentialBackoff()
                .factor(2)
                .maxDelay(config.retryMaxDelay().toMillis(), ChronoUnit.MILLIS)
                .done()
                .done()
                .build();
        while (!closed && current.get() == null && releasedReason == null) {
            try {
                guard.call(() -> {
                    if (!closed && !tryOpen()) {
                        throw new IllegalStateException(downReason);
                    }
                    return Boolean.TRUE;
                }, Boolean.class);
            } catch (Exception e) {
                if (closed || Thread.currentThread().isInterrupted()) {
                    return;
                }
                LOG.debugf("nvml connect guard gave up (%s); starting over", e.getMessage());
            }
        }
    }

    private boolean tryOpen() {
        try {
            Nvml nvml = Nvml.open(config.library());
            current.set(nvml);
            LOG.infof("NVML loaded: library=%s driver=%s nvml=%s gpus=%d", config.library(), nvml.driverVersion(),
                    nvml.nvmlVersion(), nvml.deviceCount());
            for (Runnable listener : openedListeners) {
                try {
                    listener.run();
                } catch (RuntimeException e) {
                    LOG.errorf(e, "a listener of NVML's start failed (%s); NVML is up anyway", listener);
                }
            }
            return true;
        } catch (NvmlException e) {
            String reason = describe(e);
            if (!reason.equals(downReason)) {
                LOG.warnf("%s; retrying in the background (backoff up to %ss)", reason, config.retryMaxDelay().toSeconds());
            }
            downReason = reason;
            return false;
        }
    }

    /** What is wrong and what to do about it, for logs and /health. */
    private String describe(NvmlException e) {
        String library = config.library();
        return switch (e.result()) {
            case LIBRARY_NOT_FOUND -> "NVML not found at " + library
                    + "; install the NVIDIA driver or set gpu-agent.nvml.library to the path of libnvidia-ml.so.1";
            case DRIVER_NOT_LOADED -> "NVML at " + library + " loaded but the NVIDIA kernel driver is not running ("
                    + e.getMessage() + "); load the nvidia kernel module (modprobe nvidia) or check dmesg";
            case LIB_RM_VERSION_MISMATCH -> "NVML at " + library + " does not match the loaded kernel module ("
                    + e.getMessage() + "); the driver was upgraded without a reboot: reboot the host";
            case NO_PERMISSION -> "NVML at " + library + " refused access (" + e.getMessage()
                    + "); run the agent as a user allowed to open /dev/nvidia*";
            default -> "NVML at " + library + " failed to initialise (" + e.getMessage()
                    + "); check the NVIDIA driver (nvidia-smi, dmesg)";
        };
    }
}
