package io.gpuagent.agent.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.nvml.EventTypes;
import io.gpuagent.nvml.GpuEvent;
import io.gpuagent.nvml.Nvml;
import io.gpuagent.nvml.NvmlReturn;
import io.gpuagent.nvml.fake.FakeNvml;
import io.gpuagent.nvml.fake.Scenario;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The event thread's lifecycle on the fake driver through the real bindings: what it registers, GPUs that
 * come later, failed waits, a new NVML, stop. Tagged {@code own-fake}: its own surefire execution runs it in a
 * JVM with its own scenario file, so the events it injects never reach the Quarkus application the other
 * tests share.
 * What a GPU is registered for shows in which injected events arrive (the fake fires them in order and
 * queues only what a set registered); a freed set shows as {@link EventWatcher#holdsNvml()} false, and
 * strict mode aborts the JVM if NVML were shut down under a set still in use.
 */
@Tag("own-fake")
class EventWatcherTest {

    static final Duration SOON = Duration.ofSeconds(5);

    private final BlockingQueue<GpuEvent> delivered = new LinkedBlockingQueue<>();
    private final AtomicReference<Nvml> nvml = new AtomicReference<>();
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final EventWatcher watcher = new EventWatcher(() -> Optional.ofNullable(nvml.get()), delivered::add,
            registry, 50);
    private final List<Nvml> opened = new ArrayList<>();

    @AfterEach
    void stop() {
        watcher.stop();
        for (Nvml n : opened) {
            n.close();
        }
    }

    /** NVML over the fake, answering from {@code scenario} (read at init); closed after the watcher stopped. */
    private Nvml open(Scenario scenario) {
        FakeNvml.write(scenario);
        Nvml n = FakeNvml.open();
        opened.add(n);
        return n;
    }

    private static String event(int gpu, String type, long data) {
        return "event." + FakeNvml.nextEventNumber() + " = " + gpu + " " + type + " " + data;
    }

    private static GpuEvent xid(Nvml nvml, int gpu, long code) {
        return new GpuEvent(nvml.device(gpu), EventTypes.XID_CRITICAL_ERROR, code, -1, -1);
    }

    @Test
    void registersWhatEachGpuSupportsAndDeliversEventsAtOnce() throws Exception {
        // GPU 1 supports XIDs and an unknown bit, which is not wanted.
        Scenario three = Scenario.gpus(3).gpu(1, "supported_events", "0x" + Long.toHexString(EventTypes.XID_CRITICAL_ERROR | 0x10000L));
        Nvml fake = open(three);
        nvml.set(fake);
        watcher.start();
        FakeNvml.eventually(SOON, () -> assertEquals(3, watcher.watchedGpus()));
        assertTrue(watcher.watching());
        assertEquals(1.0, registry.get("gpu_agent.event.watch.up").gauge().value());
        assertEquals(0xc19fL, watcher.watchedTypes(), "wanted & supported: the defaults, and not GPU 1's unknown bit");

        // A P-state change on GPU 1 (not registered there) fires first; the XID on GPU 2 is what arrives.
        long t0 = System.nanoTime();
        FakeNvml.write(three.and().line(event(1, "pstate", 0)).line(event(2, "xid", 79)));
        assertEquals(xid(fake, 2, 79), delivered.poll(5, TimeUnit.SECONDS));
        assertTrue(System.nanoTime() - t0 < TimeUnit.MILLISECONDS.toNanos(250), "delivered at once, not after a wait");
    }

    @Test
    void gpusThatAreLostUnsupportedOrNewAreRegisteredWhenTheyCanBe() throws Exception {
        Scenario two = Scenario.gpus(2).gpu(0, "supported_events", 0);   // GPU 0 supports none of the types
        Nvml fake = open(two.and().lost(1));
        nvml.set(fake);
        watcher.start();
        FakeNvml.eventually(SOON, () -> assertTrue(watcher.holdsNvml(), "the set is created"));
        // Nothing registrable yet: not watching, and it keeps trying (it registers once GPU 1 is back).
        assertFalse(watcher.watching());
        assertEquals(0, registry.get("gpu_agent.event.watch.up").gauge().value());

        FakeNvml.apply(two);
        FakeNvml.eventually(SOON, () -> assertEquals(1, watcher.watchedGpus()));
        assertTrue(watcher.watching());
        Scenario three = Scenario.gpus(3).gpu(0, "supported_events", EventTypes.XID_CRITICAL_ERROR);   // and a GPU appears
        FakeNvml.apply(three);
        FakeNvml.eventually(SOON, () -> assertEquals(3, watcher.watchedGpus()));
        // GPU 0 is registered for XIDs only: its P-state change is not delivered, its XID is.
        FakeNvml.write(three.and().line(event(0, "pstate", 0)).line(event(0, "xid", 31)));
        assertEquals(xid(fake, 0, 31), delivered.poll(5, TimeUnit.SECONDS));
    }

    @Test
    void aFailedWaitOrANewNvmlStartsOverWithANewSet() throws Exception {
        Scenario one = Scenario.gpus(1);
        Nvml first = open(one);
        nvml.set(first);
        watcher.start();
        FakeNvml.eventually(SOON, () -> assertTrue(watcher.watching()));
        FakeNvml.apply(one.and().line("error.nvmlEventSetWait_v2 = " + NvmlReturn.UNKNOWN.code()));
        FakeNvml.eventually(SOON, () -> assertFalse(watcher.holdsNvml(), "the failed set is freed"));
        FakeNvml.apply(one);
        FakeNvml.eventually(SOON, () -> assertTrue(watcher.watching()));
        FakeNvml.write(one.and().line(event(0, "xid", 48)));
        assertEquals(xid(first, 0, 48), delivered.poll(5, TimeUnit.SECONDS));

        Nvml second = open(Scenario.gpus(2));
        nvml.set(second);   // e.g. the driver was reloaded
        FakeNvml.eventually(SOON, () -> assertEquals(2, watcher.watchedGpus()));
        nvml.set(null);     // NVML gone
        FakeNvml.eventually(SOON, () -> assertFalse(watcher.watching()));
        FakeNvml.eventually(SOON, () -> assertFalse(watcher.holdsNvml(), "the set is freed"));
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
            Scenario one = Scenario.gpus(1);
            nvml.set(open(one));
            w.start();
            FakeNvml.eventually(SOON, () -> assertTrue(w.watching()));
            FakeNvml.write(one.and().line(event(0, "xid", 1)).line(event(0, "xid", 2)));
            FakeNvml.eventually(SOON, () -> assertEquals(2, got.size()));
            assertTrue(w.watching(), "no restart for a sink failure");
        } finally {
            w.stop();
        }
    }

    @Test
    void stopReturnsWithinOneWaitAndFreesTheSet() {
        nvml.set(open(Scenario.gpus(1)));
        watcher.start();
        FakeNvml.eventually(SOON, () -> assertTrue(watcher.watching()));
        long t0 = System.nanoTime();
        watcher.stop();
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertTrue(ms < 1_500, "stop took " + ms + " ms");
        assertFalse(watcher.holdsNvml(), "the set is freed");
        assertFalse(watcher.watching());
    }
}
