package io.gpuagent.nvml.ffm;

import static io.gpuagent.nvml.ffm.Native.check;
import static io.gpuagent.nvml.ffm.Native.rethrow;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.gpuagent.nvml.NvmlException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.IntPredicate;

/**
 * The shapes a device downcall comes in, each written once: hold NVML open for the call ({@link FfmNvml#hold}),
 * allocate the out-parameter in a confined arena, check the {@code nvmlReturn_t}, copy the answer out before
 * the arena closes. Also the two protocols several calls share: a versioned call with an older fallback, and
 * the count-and-grow list.
 */
final class DeviceCalls {

    /** The driver rewrites a list between our calls; give up after this many INSUFFICIENT_SIZE answers. */
    private static final int MAX_LIST_ATTEMPTS = 8;
    private static final int INITIAL_LIST_CAPACITY = 16;

    /** One downcall writing into {@code out}; returns the {@code nvmlReturn_t}. */
    @FunctionalInterface
    interface Call {
        int invoke(MemorySegment out) throws Throwable;
    }

    /** One downcall with no out-parameter; returns the {@code nvmlReturn_t}. */
    @FunctionalInterface
    interface Command {
        int invoke() throws Throwable;
    }

    /** One call of the count protocol: {@code count} holds the capacity going in and the length coming out. */
    @FunctionalInterface
    interface ListCall {
        int invoke(MemorySegment count, MemorySegment entries) throws Throwable;
    }

    /** Room for {@code capacity} entries, prepared as the protocol needs (zeroed, or filled with a sentinel). */
    @FunctionalInterface
    interface Entries {
        MemorySegment allocate(Arena arena, int capacity);
    }

    /** Copies the first {@code n} entries out before the arena closes. */
    @FunctionalInterface
    interface ListRead<T> {
        List<T> read(MemorySegment entries, int n);
    }

    private final FfmNvml nvml;

    DeviceCalls(FfmNvml nvml) {
        this.nvml = nvml;
    }

    /** {@code count} 32-bit outputs side by side in {@code out} (slice i at offset 4i). */
    int[] ints(String function, int count, Call call) {
        try (var held = nvml.hold(function); Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT, count);
            check(call.invoke(out), function);
            return out.toArray(JAVA_INT);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    int uint(String function, Call call) {
        return ints(function, 1, call)[0];
    }

    long ulonglong(String function, Call call) {
        try (var held = nvml.hold(function); Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_LONG);
            check(call.invoke(out), function);
            return out.get(JAVA_LONG, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** A {@code char[size]} the driver fills through {@code h(device, buffer, size)}. */
    String string(String function, int size, MethodHandle h, MemorySegment device) {
        try (var held = nvml.hold(function); Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(size);
            check((int) h.invokeExact(device, buffer, size), function);
            return Native.string(buffer);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** A struct the driver fills; {@code read} copies it out before the arena closes. */
    <T> T struct(String function, MemoryLayout layout, Call call, Function<MemorySegment, T> read) {
        try (var held = nvml.hold(function); Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(layout);
            check(call.invoke(out), function);
            return read.apply(out);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void command(String function, Command command) {
        try (var held = nvml.hold(function)) {
            check(command.invoke(), function);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * The newer, versioned form of a call ({@code _v2}, {@code V}) when the driver exports it
     * (docs/nvml.md#versioned-symbols-and-fallbacks). Its answer; or empty when the caller should ask the
     * older form instead: the driver has no newer symbol, or it answered that it does not do that form
     * ({@link Native#tryOlder}) and the older symbol exists. Any other answer is thrown. {@code call} sets the
     * struct's version (and any input) before it invokes.
     */
    <T> Optional<T> newer(String function, MethodHandle newer, boolean olderExported, MemoryLayout layout, Call call,
                          Function<MemorySegment, T> read) {
        return newer(function, newer, olderExported, Native::tryOlder, layout, call, read);
    }

    /**
     * {@link #newer(String, MethodHandle, boolean, MemoryLayout, Call, Function)} where only the answers
     * {@code tryOlder} accepts mean "ask the older form": for calls whose NOT_SUPPORTED is an answer about the device
     * (a GPU without that MIG profile), not about the call.
     */
    <T> Optional<T> newer(String function, MethodHandle newer, boolean olderExported, IntPredicate tryOlder,
                          MemoryLayout layout, Call call, Function<MemorySegment, T> read) {
        if (newer == null) {
            return Optional.empty();
        }
        try (var held = nvml.hold(function); Arena arena = Arena.ofConfined()) {
            MemorySegment struct = arena.allocate(layout);
            int rc = call.invoke(struct);
            if (rc == Native.SUCCESS) {
                return Optional.of(read.apply(struct));
            }
            if (!tryOlder.test(rc) || !olderExported) {
                throw new NvmlException(rc, function);
            }
            return Optional.empty();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * The count protocol with a growth loop: ask with room for {@code capacity} entries; on INSUFFICIENT_SIZE
     * the driver says how many it has, and we ask again with more (the list may have grown again meanwhile).
     */
    <T> List<T> list(String function, Entries entries, ListCall call, ListRead<T> read) {
        int capacity = INITIAL_LIST_CAPACITY;
        for (int attempt = 1; ; attempt++) {
            try (var held = nvml.hold(function); Arena arena = Arena.ofConfined()) {
                MemorySegment count = arena.allocate(JAVA_INT);
                count.set(JAVA_INT, 0, capacity);
                MemorySegment buffer = entries.allocate(arena, capacity);
                int rc = call.invoke(count, buffer);
                int n = count.get(JAVA_INT, 0);
                if (rc == Native.INSUFFICIENT_SIZE && attempt < MAX_LIST_ATTEMPTS) {
                    capacity = grow(capacity, n);
                    continue;
                }
                check(rc, function);
                return read.read(buffer, Math.min(n, capacity));
            } catch (Throwable t) {
                throw rethrow(t);
            }
        }
    }

    /** Room for what the driver asked for plus slack, because the list may grow again before the retry. */
    private static int grow(int capacity, int needed) {
        return Math.max(capacity * 2, needed + needed / 2 + 4);
    }
}
