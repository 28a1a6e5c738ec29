package io.gpuagent.agent.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.agent.Scenario;
import io.gpuagent.nvml.EventSet;
import io.gpuagent.nvml.EventTypes;
import io.gpuagent.nvml.GpuDevice;
import io.gpuagent.nvml.GpuEvent;
import io.gpuagent.nvml.Nvml;
import io.gpuagent.nvml.NvmlException;
import io.gpuagent.nvml.NvmlReturn;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The event thread's lifecycle against a small Java fake of {@link Nvml} (the fake C driver covers the FFM
 * path in {@link EventsApiTest}): what it registers, GPUs that come later, failed waits, a new NVML, stop.
 */
class EventWatcherTest {

    static final Duration SOON = Duration.ofSeconds(5);

    private final BlockingQueue<GpuEvent> delivered = new LinkedBlockingQueue<>();
    private final AtomicReference<Nvml> nvml = new AtomicReference<>();
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final EventWatcher watcher = new EventWatcher(() -> Optional.ofNullable(nvml.get()), delivered::add,
            registry, 50);

    @AfterEach
    void stop() {
        watcher.stop();
    }

    @Test
    void registersWhatEachGpuSupportsAndDeliversEventsAtOnce() throws Exception {
        FakeNvml fake = new FakeNvml(3);
        fake.supported.put(1, EventTypes.XID_CRITICAL_ERROR | 0x10000L);   // an unknown bit is not wanted
        nvml.set(fake);
        watcher.start();
        Scenario.eventually(SOON, () -> assertEquals(3, watcher.watchedGpus()));
        assertTrue(watcher.watching());
        assertEquals(1.0, registry.get("gpu_agent.event.watch.up").gauge().value());
        FakeSet set = fake.sets.getFirst();
        assertEquals(0xc19fL, set.masks.get(0));
        assertEquals(EventTypes.XID_CRITICAL_ERROR, set.masks.get(1));

        GpuEvent xid = new GpuEvent(fake.device(2), EventTypes.XID_CRITICAL_ERROR, 79, -1, -1);
        long t0 = System.nanoTime();
        set.queue.add(xid);
        assertEquals(xid, delivered.poll(5, TimeUnit.SECONDS));
        assertTrue(System.nanoTime() - t0 < TimeUnit.MILLISECONDS.toNanos(250), "delivered at once, not after a wait");
    }

    @Test
    void gpusThatAreLostUnsupportedOrNewAreRegisteredWhenTheyCanBe() {
        FakeNvml fake = new FakeNvml(2);
        fake.lost.add(1);
        fake.supported.put(0, 0L);   // supports none of the types
        nvml.set(fake);
        watcher.start();
        Scenario.eventually(SOON, () -> assertFalse(fake.sets.isEmpty()));
        FakeSet set = fake.sets.getFirst();
        // Nothing registrable yet: not watching, and it keeps trying.
        Scenario.eventually(SOON, () -> assertTrue(set.attempts.size() >= 4, set.attempts.toString()));
        assertFalse(watcher.watching());
        assertEquals(0, registry.get("gpu_agent.event.watch.up").gauge().value());

        fake.lost.clear();
        Scenario.eventually(SOON, () -> assertEquals(1, watcher.watchedGpus()));
        assertTrue(watcher.watching());
        fake.supported.put(0, EventTypes.XID_CRITICAL_ERROR);
        fake.count = 3;   // a GPU appears
        Scenario.eventually(SOON, () -> assertEquals(3, watcher.watchedGpus()));
        assertEquals(1, fake.sets.size(), "the same set throughout");
        assertEquals(EventTypes.XID_CRITICAL_ERROR, set.masks.get(0));
    }

    @Test
    void aFailedWaitOrANewNvmlStartsOverWithANewSet() throws Exception {
        FakeNvml first = new FakeNvml(1);
        nvml.set(first);
        watcher.start();
        Scenario.eventually(SOON, () -> assertTrue(watcher.watching()));
        FakeSet one = first.sets.getFirst();
        one.failNextWait = true;
        Scenario.eventually(SOON, () -> assertEquals(2, first.sets.size()));
        assertTrue(one.closed, "the failed set is freed");
        Scenario.eventually(SOON, () -> assertTrue(watcher.watching()));
        FakeSet two = first.sets.get(1);
        GpuEvent e = new GpuEvent(first.device(0), EventTypes.XID_CRITICAL_ERROR, 48, -1, -1);
        two.queue.add(e);
        assertEquals(e, delivered.poll(5, TimeUnit.SECONDS));

        FakeNvml second = new FakeNvml(2);
        nvml.set(second);   // e.g. the driver was reloaded
        Scenario.eventually(SOON, () -> assertEquals(2, watcher.watchedGpus()));
        assertTrue(two.closed);
        nvml.set(null);     // NVML gone
        Scenario.eventually(SOON, () -> assertFalse(watcher.watching()));
        Scenario.eventually(SOON, () -> assertTrue(second.sets.getFirst().closed));
    }

    @Test
    void aFailingSinkDoesNotStopTheThread() throws Exception {
        List<GpuEvent> got = new CopyOnWriteArrayList<>();
        EventWatcher w = new EventWatcher(() -> Optional.ofNullable(nvml.get()), e -> {
            got.add(e);
            if (e.eventData() == 1) {
                throw new IllegalStateException("boom");
            }
        }, new SimpleMeterRegistry(), 50);
        try {
            FakeNvml fake = new FakeNvml(1);
            nvml.set(fake);
            w.start();
            Scenario.eventually(SOON, () -> assertTrue(w.watching()));
            FakeSet set = fake.sets.getFirst();
            set.queue.add(new GpuEvent(fake.device(0), EventTypes.XID_CRITICAL_ERROR, 1, -1, -1));
            set.queue.add(new GpuEvent(fake.device(0), EventTypes.XID_CRITICAL_ERROR, 2, -1, -1));
            Scenario.eventually(SOON, () -> assertEquals(2, got.size()));
            assertEquals(1, fake.sets.size(), "no restart for a sink failure");
        } finally {
            w.stop();
        }
    }

    @Test
    void stopReturnsWithinOneWaitAndFreesTheSet() {
        FakeNvml fake = new FakeNvml(1);
        nvml.set(fake);
        watcher.start();
        Scenario.eventually(SOON, () -> assertTrue(watcher.watching()));
        long t0 = System.nanoTime();
        watcher.stop();
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertTrue(ms < 1_500, "stop took " + ms + " ms");
        assertTrue(fake.sets.getFirst().closed);
        assertFalse(watcher.watching());
    }

    /** Just enough of Nvml: devices by index, supported types, lost GPUs, and event sets. */
    static final class FakeNvml implements Nvml {
        volatile int count;
        final Map<Integer, Long> supported = new ConcurrentHashMap<>();
        final List<Integer> lost = new CopyOnWriteArrayList<>();
        final List<FakeSet> sets = new CopyOnWriteArrayList<>();
        private final Map<Integer, GpuDevice> devices = new ConcurrentHashMap<>();

        FakeNvml(int count) {
            this.count = count;
        }

        @Override
        public int deviceCount() {
            return count;
        }

        @Override
        public GpuDevice device(int index) {
            return devices.computeIfAbsent(index, i -> (GpuDevice) Proxy.newProxyInstance(getClass().getClassLoader(),
                    new Class<?>[] {GpuDevice.class}, (proxy, method, args) -> switch (method.getName()) {
                        case "index" -> i;
                        case "uuid" -> "GPU-fake-" + i;
                        case "supportedEventTypes" -> {
                            if (lost.contains(i)) {
                                throw new NvmlException(NvmlReturn.GPU_IS_LOST.code(), "nvmlDeviceGetSupportedEventTypes");
                            }
                            yield supported.getOrDefault(i, 0xc19fL);
                        }
                        case "hashCode" -> System.identityHashCode(proxy);
                        case "equals" -> proxy == args[0];
                        case "toString" -> "GPU " + i;
                        default -> throw new UnsupportedOperationException(method.getName());
                    }));
        }

        @Override
        public List<GpuDevice> devices() {
            List<GpuDevice> all = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                all.add(device(i));
            }
            return all;
        }

        @Override
        public EventSet createEventSet() {
            FakeSet s = new FakeSet();
            sets.add(s);
            return s;
        }

        @Override
        public String driverVersion() {
            return "fake";
        }

        @Override
        public String nvmlVersion() {
            return "fake";
        }

        @Override
        public int cudaDriverVersion() {
            return 0;
        }

        @Override
        public GpuDevice deviceByUuid(String uuid) {
            throw new UnsupportedOperationException();
        }

        @Override
        public GpuDevice deviceByPciBusId(String pciBusId) {
            throw new UnsupportedOperationException();
        }

        @Override
        public String errorString(int code) {
            return NvmlReturn.of(code).name();
        }

        @Override
        public boolean drainState(io.gpuagent.nvml.PciInfo pci) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void modifyDrainState(io.gpuagent.nvml.PciInfo pci, boolean drain) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void removeGpu(io.gpuagent.nvml.PciInfo pci) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void close() {
        }
    }

    /** Registers like FfmEventSet ({@code wanted & supported}); waits on a queue. */
    static final class FakeSet implements EventSet {
        final BlockingQueue<GpuEvent> queue = new LinkedBlockingQueue<>();
        final Map<Integer, Long> masks = new ConcurrentHashMap<>();
        final List<Integer> attempts = new CopyOnWriteArrayList<>();
        volatile boolean failNextWait;
        volatile boolean closed;

        @Override
        public long register(GpuDevice device, long wanted) {
            attempts.add(device.index());
            long mask = wanted & device.supportedEventTypes();
            if (mask != 0) {
                masks.merge(device.index(), mask, (a, b) -> a | b);
            }
            return mask;
        }

        @Override
        public Optional<GpuEvent> await(int timeoutMs) {
            if (closed) {
                throw new NvmlException(NvmlReturn.UNINITIALIZED.code(), "nvmlEventSetWait_v2", "closed");
            }
            if (failNextWait) {
                failNextWait = false;
                throw new NvmlException(NvmlReturn.UNKNOWN.code(), "nvmlEventSetWait_v2");
            }
            try {
                GpuEvent e = queue.poll(timeoutMs, TimeUnit.MILLISECONDS);
                return Optional.ofNullable(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Optional.empty();
            }
        }

        @Override
        public void close() {
            closed = true;
        }
    }
}
