package io.gpuagent.ffm;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The lifecycle guard of one native library session (NVML's init/shutdown, DCGM's connect/shutdown): every call
 * holds it shared for its native part, and {@link #shutDown} takes it exclusively, so the library's shutdown never
 * runs under a call in flight (on the real libraries that is a use after free). After shutdown has begun, calls
 * fail without reaching the library. Calls are refused on virtual threads: a native call pins its carrier, and a
 * hung one would stall every virtual thread of the JVM.
 */
public final class CallGuard {

    /** How long {@link #shutDown} waits for calls in flight before it leaves the library up. */
    public static final long CLOSE_WAIT_MS = 10_000;

    /** The library's shutdown; may throw what a downcall throws. */
    public interface Shutdown {
        void run() throws Throwable;
    }

    private final String library;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final Held held = new Held();
    private volatile boolean closed;
    private boolean shutDown;   // guarded by the write lock

    /** {@code library} names it in the virtual-thread refusal ("NVML", "DCGM"). */
    public CallGuard(String library) {
        this.library = library;
    }

    /**
     * Holds the library open for one call: {@code try (var held = guard.hold(fn, closedError)) { ...downcall... }}.
     * Once shutdown has begun, throws what {@code whenClosed} makes of the function's name.
     */
    public Held hold(String function, Function<String, ? extends RuntimeException> whenClosed) {
        if (Thread.currentThread().isVirtual()) {
            throw new IllegalStateException(function + " called on a virtual thread (" + Thread.currentThread()
                    + "): " + library + " calls must run on platform threads, a native call pins its carrier");
        }
        lock.readLock().lock();
        if (closed) {
            lock.readLock().unlock();
            throw whenClosed.apply(function);
        }
        return held;
    }

    /** Whether shutdown has begun: frees of library objects are skipped from then on (the shutdown frees them). */
    public boolean closed() {
        return closed;
    }

    /**
     * Refuses new calls, waits up to {@value #CLOSE_WAIT_MS} ms for those in flight, then runs {@code shutdown}
     * once (later calls do nothing). A call still in flight after the wait (a hung GPU) gets {@code stillInFlight}
     * thrown instead: shutting the library down under that call would crash the process, leaving it up cannot.
     */
    public void shutDown(Supplier<? extends RuntimeException> stillInFlight, Shutdown shutdown) throws Throwable {
        closed = true;
        boolean exclusive;
        try {
            exclusive = lock.writeLock().tryLock(CLOSE_WAIT_MS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            exclusive = false;
        }
        if (!exclusive) {
            throw stillInFlight.get();
        }
        try {
            if (shutDown) {
                return;
            }
            shutDown = true;
            shutdown.run();
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** The shared hold of one call; closing it lets {@link #shutDown} proceed once no call holds it. */
    public final class Held implements AutoCloseable {
        @Override
        public void close() {
            lock.readLock().unlock();
        }
    }
}
