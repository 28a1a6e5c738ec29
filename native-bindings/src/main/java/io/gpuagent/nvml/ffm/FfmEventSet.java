package io.gpuagent.nvml.ffm;

import static io.gpuagent.nvml.ffm.Layouts.offset;
import static io.gpuagent.nvml.ffm.Native.check;
import static io.gpuagent.nvml.ffm.Native.rethrow;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.gpuagent.nvml.EventSet;
import io.gpuagent.nvml.GpuDevice;
import io.gpuagent.nvml.GpuEvent;
import io.gpuagent.nvml.NvmlException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * An {@code nvmlEventSet_t}. Waits hold the read lock and {@link #close()} the write lock, so the set is
 * never freed under a thread blocked in {@code nvmlEventSetWait_v2}: close waits at most one timeout.
 */
final class FfmEventSet implements EventSet {
    private static final long DEVICE = offset(Layouts.EVENT_DATA, "device");
    private static final long EVENT_TYPE = offset(Layouts.EVENT_DATA, "eventType");
    private static final long EVENT_DATA = offset(Layouts.EVENT_DATA, "eventData");
    private static final long GPU_INSTANCE = offset(Layouts.EVENT_DATA, "gpuInstanceId");
    private static final long COMPUTE_INSTANCE = offset(Layouts.EVENT_DATA, "computeInstanceId");

    private final FfmNvml nvml;
    private final MemorySegment set;
    private final ReadWriteLock lock = new ReentrantReadWriteLock();
    private boolean closed;   // guarded by lock

    FfmEventSet(FfmNvml nvml, MemorySegment set) {
        this.nvml = nvml;
        this.set = set;
    }

    @Override
    public long register(GpuDevice device, long wanted) {
        FfmGpuDevice gpu = (FfmGpuDevice) Objects.requireNonNull(device, "device");
        long supported;
        try {
            supported = gpu.supportedEventTypes();
        } catch (NvmlException e) {
            if (e.notSupported()) {
                return 0;
            }
            throw e;
        }
        long mask = wanted & supported;
        if (mask == 0) {
            return 0;
        }
        String function = "nvmlDeviceRegisterEvents";
        lock.readLock().lock();
        try (var held = nvml.hold(function)) {
            ensureOpen(function);
            int rc = (int) nvml.fn.events.nvmlDeviceRegisterEvents.invokeExact(gpu.handle(), mask, set);
            // NOT_SUPPORTED registers nothing but leaves the set usable (docs/nvml.md#events).
            if (rc == Native.NOT_SUPPORTED) {
                return 0;
            }
            check(rc, function);
            return mask;
        } catch (Throwable t) {
            throw rethrow(t);
        } finally {
            lock.readLock().unlock();
        }
    }

    @Override
    public Optional<GpuEvent> await(int timeoutMs) {
        if (timeoutMs < 0) {
            throw new IllegalArgumentException("timeoutMs must be >= 0: " + timeoutMs);
        }
        String function = "nvmlEventSetWait_v2";
        lock.readLock().lock();
        try (var held = nvml.hold(function); Arena arena = Arena.ofConfined()) {
            ensureOpen(function);
            MemorySegment data = arena.allocate(Layouts.EVENT_DATA);
            int rc = (int) nvml.fn.events.nvmlEventSetWait_v2.invokeExact(set, data, timeoutMs);
            if (rc == Native.TIMEOUT) {
                return Optional.empty();
            }
            check(rc, function);
            GpuDevice device = nvml.deviceAt(data.get(ADDRESS, DEVICE).address());
            return Optional.of(new GpuEvent(device, data.get(JAVA_LONG, EVENT_TYPE), data.get(JAVA_LONG, EVENT_DATA),
                    data.get(JAVA_INT, GPU_INSTANCE), data.get(JAVA_INT, COMPUTE_INSTANCE)));
        } catch (Throwable t) {
            throw rethrow(t);
        } finally {
            lock.readLock().unlock();
        }
    }

    private void ensureOpen(String function) {
        if (closed) {
            throw new NvmlException(Native.UNINITIALIZED, function, "this event set was closed");
        }
    }

    /** Frees the set once; a no-op once NVML is closed, since the last {@code nvmlShutdown} freed it. */
    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            if (nvml.closed()) {
                return;
            }
            try (var held = nvml.hold("nvmlEventSetFree")) {
                check((int) nvml.fn.events.nvmlEventSetFree.invokeExact(set), "nvmlEventSetFree");
            } catch (NvmlException e) {
                if (!nvml.closed()) {
                    throw e;
                }
            }
        } catch (Throwable t) {
            throw rethrow(t);
        } finally {
            lock.writeLock().unlock();
        }
    }
}
