package io.gpuagent.dcgm.ffm;

import static io.gpuagent.dcgm.ffm.DcgmLayouts.POLICY_CALLBACK_RESPONSE_V2;
import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.gpuagent.dcgm.PolicyCondition;
import io.gpuagent.dcgm.PolicyViolation;
import java.lang.foreign.Arena;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The one {@code fpRecvUpdates} stub of the JVM's life (global arena: DCGM may call it until the library is gone)
 * and the registry its {@code userData} keys into. userData is a registration number, never an object address, so a
 * callback DCGM delivers after an unregister finds nothing and is dropped. The handler runs on DCGM's own thread: it
 * copies the struct, offers the copy to the registration's bounded queue and returns; it never blocks and never calls
 * DCGM (in remote mode that deadlocks the thread delivering the reply), and it catches everything, since an exception
 * escaping an upcall ends the JVM.
 */
final class PolicyUpcalls {

    /** Receives copied violations; implemented by a registration. */
    interface Sink {
        void offer(PolicyViolation violation);
    }

    private static final ConcurrentMap<Long, Sink> REGISTRY = new ConcurrentHashMap<>();
    private static final AtomicLong NEXT_KEY = new AtomicLong(1);
    /** Callbacks whose key was no longer registered (delivered after unregister). */
    static final AtomicLong LATE = new AtomicLong();
    /** Callbacks the handler could not read (a wrong version word, or anything it threw). */
    static final AtomicLong MALFORMED = new AtomicLong();

    private static final long VERSION = offset("version");
    private static final long CONDITION = offset("condition");
    private static final long GPU_ID = offset("gpuId");
    private static final long VAL = offset("val");

    private static volatile MemorySegment stub;

    private PolicyUpcalls() {
    }

    private static long offset(String name) {
        return POLICY_CALLBACK_RESPONSE_V2.byteOffset(groupElement(name));
    }

    /** The callback's address, created at the first registration and kept for the JVM's life. */
    static MemorySegment stub() {
        MemorySegment s = stub;
        if (s == null) {
            synchronized (PolicyUpcalls.class) {
                s = stub;
                if (s == null) {
                    try {
                        s = Linker.nativeLinker().upcallStub(MethodHandles.lookup().findStatic(PolicyUpcalls.class,
                                "onViolation", MethodType.methodType(int.class, MemorySegment.class, long.class)),
                                DcgmFunctions.POLICY_CALLBACK, Arena.global());
                    } catch (ReflectiveOperationException e) {
                        throw new IllegalStateException(e);
                    }
                    stub = s;
                }
            }
        }
        return s;
    }

    static long register(Sink sink) {
        long key = NEXT_KEY.getAndIncrement();
        REGISTRY.put(key, sink);
        return key;
    }

    static void unregister(long key) {
        REGISTRY.remove(key);
    }

    /** The upcall: {@code int (*)(dcgmPolicyCallbackResponse_t *, uint64_t userData)}. */
    static int onViolation(MemorySegment response, long userData) {
        try {
            Sink sink = REGISTRY.get(userData);
            if (sink == null) {
                LATE.incrementAndGet();
                return 0;
            }
            MemorySegment r = response.reinterpret(POLICY_CALLBACK_RESPONSE_V2.byteSize());
            if (r.get(JAVA_INT, VERSION) != DcgmLayouts.POLICY_CALLBACK_RESPONSE_V2_VERSION) {
                MALFORMED.incrementAndGet();
                return 0;
            }
            sink.offer(decode(r));
        } catch (Throwable t) {
            MALFORMED.incrementAndGet();
        }
        return 0;
    }

    static PolicyViolation decode(MemorySegment r) {
        int bits = r.get(JAVA_INT, CONDITION);
        PolicyCondition condition = PolicyCondition.ofBit(bits);
        long timestamp = r.get(JAVA_LONG, VAL);
        long value = condition == null ? 0 : switch (condition) {
            case DBE -> Integer.toUnsignedLong(r.get(JAVA_INT, VAL + 12));          // numerrors
            case MAX_PAGES_RETIRED -> Integer.toUnsignedLong(r.get(JAVA_INT, VAL + 12)); // dbepages
            case NVLINK -> Integer.toUnsignedLong(r.get(JAVA_INT, VAL + 12));       // counter
            case PCI, THERMAL, POWER, XID -> Integer.toUnsignedLong(r.get(JAVA_INT, VAL + 8));
        };
        return new PolicyViolation(condition, bits, r.get(JAVA_INT, GPU_ID), timestamp, value);
    }
}
