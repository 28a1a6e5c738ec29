package io.gpuagent.nvml.ffm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.nvml.EventSet;
import io.gpuagent.nvml.EventTypes;
import io.gpuagent.nvml.GpuEvent;
import io.gpuagent.nvml.Nvml;
import io.gpuagent.nvml.fake.OpenFakeNvml;
import io.gpuagent.nvml.NvmlException;
import io.gpuagent.nvml.NvmlReturn;
import io.gpuagent.nvml.fake.FakeNvml;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.TestInstance;

/** Driver events through nvmlEventSetWait_v2, injected with the scenario's event.<n> lines. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EventTest {
    private static final int WAIT_MS = 5_000;

    @RegisterExtension
    static final OpenFakeNvml FAKE = new OpenFakeNvml();

    private final Nvml nvml = FAKE.nvml();

    @Test
    void anXidIsDeliveredWithItsGpu() {
        try (EventSet set = nvml.createEventSet()) {
            assertEquals(EventTypes.XID_CRITICAL_ERROR, set.register(nvml.device(3), EventTypes.XID_CRITICAL_ERROR));
            FakeNvml.apply("event." + FakeNvml.nextEventNumber() + " = 3 xid 79");
            GpuEvent event = set.await(WAIT_MS).orElseThrow();
            assertSame(nvml.device(3), event.device(), "the handle maps back to our GpuDevice");
            assertTrue(event.isXid());
            assertEquals(79, event.eventData());
            assertEquals(-1, event.gpuInstanceId());
            assertEquals(-1, event.computeInstanceId());
        }
    }

    @Test
    void eventsArriveInOrder() {
        try (EventSet set = nvml.createEventSet()) {
            set.register(nvml.device(0), EventTypes.XID_CRITICAL_ERROR | EventTypes.DOUBLE_BIT_ECC_ERROR);
            int[] xids = {31, 43, 48, 63, 74, 79, 94, 95};
            String[] lines = new String[xids.length + 1];
            for (int i = 0; i < xids.length; i++) {
                lines[i] = "event." + FakeNvml.nextEventNumber() + " = 0 xid " + xids[i];
            }
            lines[xids.length] = "event." + FakeNvml.nextEventNumber() + " = 0 double_bit_ecc_error";
            FakeNvml.apply(lines);
            List<Long> seen = new ArrayList<>();
            for (int i = 0; i < xids.length; i++) {
                GpuEvent event = set.await(WAIT_MS).orElseThrow();
                assertEquals(EventTypes.XID_CRITICAL_ERROR, event.eventType());
                seen.add(event.eventData());
            }
            assertEquals(List.of(31L, 43L, 48L, 63L, 74L, 79L, 94L, 95L), seen);
            assertEquals(EventTypes.DOUBLE_BIT_ECC_ERROR, set.await(WAIT_MS).orElseThrow().eventType());
            assertEquals(Optional.empty(), set.await(50), "each event is delivered once");
        }
    }

    @Test
    void onlyRegisteredTypesAndGpusAreDelivered() {
        try (EventSet set = nvml.createEventSet()) {
            assertEquals(EventTypes.XID_CRITICAL_ERROR, set.register(nvml.device(1), EventTypes.XID_CRITICAL_ERROR));
            FakeNvml.apply("event." + FakeNvml.nextEventNumber() + " = 2 xid 48",      // a GPU we did not register
                    "event." + FakeNvml.nextEventNumber() + " = 1 pstate",      // a type we did not register
                    "event." + FakeNvml.nextEventNumber() + " = 1 xid 63");
            GpuEvent event = set.await(WAIT_MS).orElseThrow();
            assertSame(nvml.device(1), event.device());
            assertEquals(63, event.eventData());
            assertEquals(Optional.empty(), set.await(200));
        }
    }

    @Test
    void eventsBeforeRegistrationAreNotRecorded() {
        try (EventSet set = nvml.createEventSet()) {
            FakeNvml.apply("event." + FakeNvml.nextEventNumber() + " = 4 xid 13");
            set.register(nvml.device(4), EventTypes.XID_CRITICAL_ERROR);
            assertEquals(Optional.empty(), set.await(100));
        }
    }

    @Test
    void awaitTimesOutAfterTheTimeoutNotBefore() {
        try (EventSet set = nvml.createEventSet()) {
            set.register(nvml.device(0), EventTypes.XID_CRITICAL_ERROR);
            for (int timeout : new int[] {0, 50, 300}) {
                long start = System.nanoTime();
                assertEquals(Optional.empty(), set.await(timeout));
                long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                assertTrue(elapsedMs >= timeout - 1, "await(" + timeout + ") returned after " + elapsedMs + " ms");
            }
        }
    }

    @Test
    void aWaitingThreadGetsAnEventFiredWhileItWaits() throws Exception {
        try (EventSet set = nvml.createEventSet()) {
            set.register(nvml.device(5), EventTypes.XID_CRITICAL_ERROR);
            CompletableFuture<Optional<GpuEvent>> waiting = new CompletableFuture<>();
            Thread.ofPlatform().start(() -> waiting.complete(set.await(WAIT_MS)));
            Thread.sleep(100);
            FakeNvml.write("event." + FakeNvml.nextEventNumber() + " = 5 xid 119");
            GpuEvent event = waiting.get(WAIT_MS * 2L, TimeUnit.MILLISECONDS).orElseThrow();
            assertEquals(119, event.eventData());
            assertSame(nvml.device(5), event.device());
        }
    }

    @Test
    void registeringUnsupportedTypesRegistersTheSupportedOnes() {
        FakeNvml.apply("gpu.2.supported_events = 0x8", "gpu.3.supported_events = 0");
        try (EventSet set = nvml.createEventSet()) {
            assertEquals(EventTypes.XID_CRITICAL_ERROR,
                    set.register(nvml.device(2), EventTypes.XID_CRITICAL_ERROR | EventTypes.GPU_RECOVERY_ACTION));
            assertEquals(0, set.register(nvml.device(3), EventTypes.XID_CRITICAL_ERROR));
            assertEquals(0, set.register(nvml.device(2), EventTypes.PSTATE));
        }
    }

    @Test
    void aClosedSetRefusesWaits() {
        EventSet set = nvml.createEventSet();
        set.close();
        set.close();
        assertEquals(NvmlReturn.UNINITIALIZED, assertThrows(NvmlException.class, () -> set.await(10)).result());
        try (EventSet other = nvml.createEventSet()) {
            assertThrows(IllegalArgumentException.class, () -> other.await(-1));
        }
    }

    @Test
    void closeWaitsForAThreadBlockedInAwait() throws Exception {
        EventSet set = nvml.createEventSet();
        set.register(nvml.device(6), EventTypes.XID_CRITICAL_ERROR);
        CompletableFuture<Optional<GpuEvent>> waiting = new CompletableFuture<>();
        Thread.ofPlatform().start(() -> {
            try {
                waiting.complete(set.await(300));
            } catch (NvmlException e) {
                waiting.completeExceptionally(e);
            }
        });
        Thread.sleep(50);
        set.close();
        // Either the wait ran first and timed out, or close won the race and the wait was refused;
        // never a wait on a freed set.
        try {
            assertEquals(Optional.empty(), waiting.get(5, TimeUnit.SECONDS));
        } catch (java.util.concurrent.ExecutionException e) {
            assertEquals(NvmlReturn.UNINITIALIZED, ((NvmlException) e.getCause()).result());
        }
    }
}
