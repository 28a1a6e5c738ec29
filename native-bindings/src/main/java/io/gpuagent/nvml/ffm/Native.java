package io.gpuagent.nvml.ffm;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import io.gpuagent.nvml.NvmlException;
import io.gpuagent.nvml.NvmlReturn;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

/** Small helpers every typed wrapper shares. */
final class Native {
    static final int SUCCESS = NvmlReturn.SUCCESS.code();
    static final int NOT_SUPPORTED = NvmlReturn.NOT_SUPPORTED.code();
    static final int INVALID_ARGUMENT = NvmlReturn.INVALID_ARGUMENT.code();
    static final int INSUFFICIENT_SIZE = NvmlReturn.INSUFFICIENT_SIZE.code();
    static final int TIMEOUT = NvmlReturn.TIMEOUT.code();
    static final int FUNCTION_NOT_FOUND = NvmlReturn.FUNCTION_NOT_FOUND.code();
    static final int ARGUMENT_VERSION_MISMATCH = NvmlReturn.ARGUMENT_VERSION_MISMATCH.code();
    static final int UNINITIALIZED = NvmlReturn.UNINITIALIZED.code();
    static final int NOT_FOUND = NvmlReturn.NOT_FOUND.code();
    static final int UNKNOWN = NvmlReturn.UNKNOWN.code();

    // NVML's buffer-size constants (docs/nvml.md#buffer-sizes); the V2 sizes because MIG names and UUIDs are longer.
    static final int NAME_SIZE = 96;
    static final int UUID_SIZE = 96;
    static final int SERIAL_SIZE = 30;
    static final int VBIOS_SIZE = 32;
    static final int SYSTEM_VERSION_SIZE = 80;

    private Native() {
    }

    static void check(int rc, String function) {
        if (rc != SUCCESS) {
            throw new NvmlException(rc, function);
        }
    }

    /**
     * A newer call answered in a way that means "this driver or device does not do the newer form": try
     * the older one (docs/nvml.md#versioned-symbols-and-fallbacks).
     */
    static boolean tryOlder(int rc) {
        return rc == ARGUMENT_VERSION_MISMATCH || rc == NOT_SUPPORTED || rc == FUNCTION_NOT_FOUND;
    }

    /** invokeExact declares Throwable; a downcall throws only unchecked exceptions. */
    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException e) {
            throw e;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new AssertionError("unexpected checked exception from a downcall", t);
    }

    /** The NUL-terminated string in {@code buffer}, or all of it when the driver wrote no NUL. */
    static String string(MemorySegment buffer) {
        long size = buffer.byteSize();
        long end = 0;
        while (end < size && buffer.get(JAVA_BYTE, end) != 0) {
            end++;
        }
        return new String(buffer.asSlice(0, end).toArray(JAVA_BYTE), StandardCharsets.UTF_8);
    }

    /** Writes {@code value} into a {@code char[size]} member, truncated and always NUL-terminated. */
    static void putString(MemorySegment struct, long offset, int size, String value) {
        byte[] bytes = value == null ? new byte[0] : value.getBytes(StandardCharsets.UTF_8);
        int n = Math.min(bytes.length, size - 1);
        MemorySegment field = struct.asSlice(offset, size);
        field.fill((byte) 0);
        MemorySegment.copy(bytes, 0, field, JAVA_BYTE, 0, n);
    }
}
