package io.gpuagent.agent.host;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.function.Supplier;

/**
 * The kernel's clock state from {@code adjtimex(2)} with {@code modes = 0} (read only, no privilege needed), as
 * {@code timedatectl} and {@code ntpstat} ask it: TIME_ERROR (5) means unsynchronised. Works with any
 * synchroniser (chrony, ntpd, systemd-timesyncd, PTP's phc2sys) because they all tell the kernel. Only the
 * first fields of {@code struct timex} are read; on LP64 Linux they are {@code modes} (int, padded to 8),
 * {@code offset}, {@code freq}, {@code maxerror} (long, at 24). The buffer is larger than the struct (208 bytes).
 */
public final class Adjtimex implements Supplier<ClockSync> {

    private static final int TIME_ERROR = 5;
    private static final long MAXERROR_OFFSET = 24;
    private static final long TIMEX_BYTES = 256;

    private final MethodHandle adjtimex;

    public Adjtimex() {
        Linker linker = Linker.nativeLinker();
        this.adjtimex = linker.defaultLookup().find("adjtimex")
                .map(a -> linker.downcallHandle(a, FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS)))
                .orElse(null);
    }

    @Override
    public ClockSync get() {
        if (adjtimex == null) {
            return ClockSync.unknown("adjtimex is not in this C library");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment timex = arena.allocate(TIMEX_BYTES, 8);   // zeroed: modes 0 = read only
            int rc = (int) adjtimex.invokeExact(timex);
            if (rc < 0) {
                return ClockSync.unknown("adjtimex failed");
            }
            long maxError = timex.get(ValueLayout.JAVA_LONG, MAXERROR_OFFSET);
            return rc == TIME_ERROR
                    ? new ClockSync(ClockSync.Status.UNSYNCHRONISED, maxError, "adjtimex says TIME_ERROR")
                    : new ClockSync(ClockSync.Status.SYNCHRONISED, maxError, "adjtimex state " + rc);
        } catch (Throwable e) {
            return ClockSync.unknown("adjtimex failed: " + e);
        }
    }
}
