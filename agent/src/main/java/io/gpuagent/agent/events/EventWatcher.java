package io.gpuagent.agent.events;

import io.gpuagent.agent.AgentRegistry;
import io.gpuagent.agent.health.HealthModel;
import io.gpuagent.agent.nvml.NvmlConnector;
import io.gpuagent.agent.nvml.ShutdownOrder;
import io.gpuagent.nvml.EventSet;
import io.gpuagent.nvml.EventTypes;
import io.gpuagent.nvml.GpuDevice;
import io.gpuagent.nvml.GpuEvent;
import io.gpuagent.nvml.Nvml;
import io.gpuagent.nvml.NvmlException;
import io.gpuagent.nvml.NvmlReturn;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.Startup;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.jboss.logging.Logger;

/**
 * The driver-event path: one platform thread ({@code nvml-events}) blocks in {@code nvmlEventSetWait_v2}
 * (500 ms at a time) on an event set registered for every GPU, and hands each event to
 * {@link HealthModel#onEvent} the moment it arrives (the health model records XIDs and state changes in
 * the event log).
 *
 * <p>Every event type the driver offers is registered, masked by what each GPU supports. A GPU that
 * supports none of them, answers NOT_SUPPORTED or is lost is skipped and tried again every
 * {@value #REGISTER_RETRY_MS} ms, as are GPUs that appear later. When NVML goes away or changes, or a wait
 * fails, the set is closed and built again after a backoff. As on the real driver, events that happen
 * before a GPU is registered are not delivered: {@link #watching()} says when the set is live.
 *
 * <p>Never a virtual thread: the wait blocks in native code and would pin its carrier.
 */
@Startup
@ApplicationScoped
public class EventWatcher {

    private static final Logger LOG = Logger.getLogger(EventWatcher.class);

    /** Every type {@link EventTypes} names; each GPU gets {@code WANTED & supported}. */
    static final long WANTED = EventTypes.SINGLE_BIT_ECC_ERROR | EventTypes.DOUBLE_BIT_ECC_ERROR
            | EventTypes.PSTATE | EventTypes.XID_CRITICAL_ERROR | EventTypes.CLOCK | EventTypes.POWER_SOURCE_CHANGE
            | EventTypes.MIG_CONFIG_CHANGE | EventTypes.SINGLE_BIT_ECC_ERROR_STORM | EventTypes.DRAM_RETIREMENT_EVENT
            | EventTypes.DRAM_RETIREMENT_FAILURE | EventTypes.NON_FATAL_POISON_ERROR | EventTypes.FATAL_POISON_ERROR
            | EventTypes.GPU_UNAVAILABLE_ERROR | EventTypes.GPU_RECOVERY_ACTION;

    /** One wait; also the most shutdown waits for the thread. Architecture: at most 1 s. */
    static final int WAIT_MS = 500;
    /** How often GPUs not registered yet (new, lost, NOT_SUPPORTED, a new handle) are tried again. */
    static final long REGISTER_RETRY_MS = 5_000;
    /** How often to look for NVML while it is down. */
    static final long NVML_POLL_MS = 100;
    static final long BACKOFF_INITIAL_MS = 200;
    static final long BACKOFF_MAX_MS = 10_000;

    private final Supplier<Optional<Nvml>> nvmlSource;
    private final Consumer<GpuEvent> sink;
    private final long registerRetryMs;
    private volatile boolean running;
    private volatile Thread thread;
    // written by the event thread only
    private volatile boolean watching;
    private volatile boolean holdsSet;
    private volatile int watchedGpus;
    private volatile long watchedTypes;

    @Inject
    public EventWatcher(NvmlConnector connector, HealthModel health, AgentRegistry agentRegistry) {
        this(connector::current, health::onEvent, agentRegistry.registry(), REGISTER_RETRY_MS);
    }

    /** The seam for tests: where NVML comes from, where events go, and how often to retry registrations. */
    EventWatcher(Supplier<Optional<Nvml>> nvml, Consumer<GpuEvent> sink, MeterRegistry registry, long registerRetryMs) {
        this.nvmlSource = nvml;
        this.sink = sink;
        this.registerRetryMs = registerRetryMs;
        Gauge.builder("gpu_agent.event.watch.up", this, w -> w.watching() ? 1 : 0)
                .description("1 while the agent waits for NVML driver events (XIDs, ...) on at least one GPU.")
                .strongReference(true).register(registry);
        Gauge.builder("gpu_agent.event.watch.gpus", this, EventWatcher::watchedGpus)
                .description("GPUs registered for NVML driver events.")
                .strongReference(true).register(registry);
    }

    void onStart(@Observes StartupEvent event) {
        start();
    }

    /** First at shutdown: out of the wait and the set freed before anything else lets go of NVML. */
    void onStop(@Observes @Priority(ShutdownOrder.EVENTS) ShutdownEvent event) {
        stop();
    }

    synchronized void start() {
        if (running) {
            return;
        }
        running = true;
        thread = Thread.ofPlatform().name("nvml-events").daemon().start(this::run);
    }

    /** Stops the event thread; returns once it has freed its event set (at most one wait, 500 ms, later). */
    synchronized void stop() {
        running = false;
        Thread t = thread;
        if (t != null) {
            LockSupport.unpark(t);   // out of a backoff sleep; a wait returns within WAIT_MS
            try {
                t.join(2L * WAIT_MS + 1_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (t.isAlive()) {
                LOG.warnf("the NVML event thread did not stop within %d ms; leaving it (daemon)", 2L * WAIT_MS + 1_000);
            }
        }
    }

    /** True while this watcher has an event set (created and not yet freed): it holds NVML open. */
    public boolean holdsNvml() {
        return holdsSet;
    }

    /** True while the event set is live and at least one GPU is registered on it. */
    public boolean watching() {
        return watching;
    }

    /** GPUs registered for events on the live set (0 when not watching). */
    public int watchedGpus() {
        return watchedGpus;
    }

    /** The union of the event types registered (an {@link EventTypes} mask). */
    public long watchedTypes() {
        return watchedTypes;
    }

    private void run() {
        long backoff = BACKOFF_INITIAL_MS;
        while (running) {
            Optional<Nvml> current = nvmlSource.get();
            if (current.isEmpty()) {
                sleep(NVML_POLL_MS);
                continue;
            }
            try {
                if (watch(current.get())) {
                    backoff = BACKOFF_INITIAL_MS;   // it worked for a while: start over at once
                    continue;
                }
            } catch (RuntimeException e) {
                if (!running) {
                    break;
                }
                LOG.warnf("NVML event watch failed (%s); starting over in %d ms", e.getMessage(), backoff);
            } finally {
                watching = false;
                watchedGpus = 0;
                watchedTypes = 0;
            }
            sleep(backoff);
            backoff = Math.min(BACKOFF_MAX_MS, backoff * 2);
        }
    }

    /**
     * One event set for the life of {@code nvml}. Returns true when it ended because NVML changed (start
     * over at once), false when it never got going; throws when a wait failed.
     */
    private boolean watch(Nvml nvml) {
        EventSet set = nvml.createEventSet();
        holdsSet = true;
        try {
            Map<Integer, Registration> registered = new HashMap<>();
            register(nvml, set, registered);
            long nextRegistration = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(registerRetryMs);
            boolean waited = false;
            while (running && nvmlSource.get().orElse(null) == nvml) {
                Optional<GpuEvent> event = set.await(WAIT_MS);
                waited = true;
                event.ifPresent(this::deliver);
                if (System.nanoTime() - nextRegistration >= 0) {
                    register(nvml, set, registered);
                    nextRegistration = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(registerRetryMs);
                }
            }
            if (running) {
                LOG.info("NVML changed; registering for driver events again");
            }
            return waited;
        } finally {
            watching = false;
            try {
                set.close();
            } catch (RuntimeException e) {
                LOG.debugf("freeing the NVML event set failed: %s", e.getMessage());
            } finally {
                holdsSet = false;
            }
        }
    }

    private void deliver(GpuEvent event) {
        try {
            sink.accept(event);
        } catch (RuntimeException e) {
            LOG.errorf(e, "the health model failed on driver event %s on GPU %s (data %d); the event thread goes on",
                    EventTypes.name(event.eventType()), event.device() == null ? "?" : event.device().index(),
                    event.eventData());
        }
    }

    /** Registers every GPU not registered yet (or whose handle changed). Never throws for one GPU. */
    private void register(Nvml nvml, EventSet set, Map<Integer, Registration> registered) {
        int count = nvml.deviceCount();
        List<String> added = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            GpuDevice device;
            try {
                device = nvml.device(i);
            } catch (NvmlException e) {
                LOG.debugf("GPU %d: no handle for events (%s); trying again later", i, e.getMessage());
                continue;
            }
            Registration r = registered.get(i);
            if (r != null && r.device() == device) {
                continue;
            }
            try {
                long mask = set.register(device, WANTED);
                if (mask == 0) {
                    LOG.debugf("GPU %d supports none of the driver events we watch; trying again later", i);
                    continue;
                }
                registered.put(i, new Registration(device, mask));
                added.add(Integer.toString(i));
            } catch (NvmlException e) {
                if (e.result() == NvmlReturn.UNKNOWN) {
                    // The driver leaves the set in an undefined state: waiting on it may never deliver again.
                    throw new NvmlException(e.code(), "nvmlDeviceRegisterEvents", "GPU " + i
                            + " answered UNKNOWN; freeing the event set and building a new one");
                }
                LOG.debugf("GPU %d: registering for events failed (%s); trying again later", i, e.getMessage());
            }
        }
        registered.keySet().removeIf(i -> i >= count);
        long types = 0;
        for (Registration r : registered.values()) {
            types |= r.mask();
        }
        watchedGpus = registered.size();
        watchedTypes = types;
        watching = !registered.isEmpty();
        if (!added.isEmpty()) {
            LOG.infof("watching NVML events on %d GPU%s (added %s): types %s", registered.size(),
                    registered.size() == 1 ? "" : "s", String.join(",", added), names(types));
        }
    }

    static String names(long mask) {
        List<String> names = new ArrayList<>();
        for (long bit = 1; bit != 0 && bit <= mask; bit <<= 1) {
            if ((mask & bit) != 0) {
                names.add(EventTypes.name(bit));
            }
        }
        return String.join(", ", names);
    }

    private void sleep(long ms) {
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(ms));
    }

    private record Registration(GpuDevice device, long mask) {
    }
}
