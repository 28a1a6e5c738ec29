package io.gpuagent.nvml.ffm;

import io.gpuagent.ffm.CallGuard;
import static io.gpuagent.nvml.ffm.Native.check;
import static io.gpuagent.nvml.ffm.Native.rethrow;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import io.gpuagent.nvml.EventSet;
import io.gpuagent.nvml.GpuDevice;
import io.gpuagent.nvml.MigDevice;
import io.gpuagent.nvml.Nvml;
import io.gpuagent.nvml.NvmlException;
import io.gpuagent.nvml.NvmlReturn;
import io.gpuagent.nvml.PciInfo;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * {@link Nvml} over one dlopened {@code libnvidia-ml.so.1} (or the fake).
 *
 * <p>One lifecycle guard: every call holds {@link #hold} (a shared lock) for its native part, and
 * {@link #close()} takes it exclusively, so {@code nvmlShutdown} never runs under a call in flight: on the
 * real library that is a use after free. After close, calls fail with UNINITIALIZED without reaching the
 * library, and freeing an event set or GPM sample is a no-op (the shutdown freed them). NVML calls are
 * refused on virtual threads: a native call pins its carrier, and a hung one would stall the JVM's
 * virtual threads.
 */
public final class FfmNvml implements Nvml {

    /** {@code nvmlDetachGpuState_t} REMOVE and {@code nvmlPcieLinkState_t} KEEP. */
    private static final int DETACH_GPU_REMOVE = 1;
    private static final int PCIE_LINK_KEEP = 0;

    final Functions fn;
    private final String library;
    private final CallGuard guard = new CallGuard("NVML");
    // Callers compare devices by identity, and events name the firing GPU by its handle address.
    private final ConcurrentMap<Integer, FfmGpuDevice> byIndex = new ConcurrentHashMap<>();
    private final ConcurrentMap<Long, FfmGpuDevice> byAddress = new ConcurrentHashMap<>();

    private FfmNvml(String library, Functions fn) {
        this.library = library;
        this.fn = fn;
    }

    /** See {@link Nvml#open(String)}. */
    public static Nvml open(String library) {
        Functions fn = new Functions(NvmlLibrary.open(library));
        int rc;
        try {
            rc = (int) fn.system.nvmlInit_v2.invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (rc != Native.SUCCESS) {
            // A failed init holds no reference count: there is nothing to shut down.
            String hint = rc == NvmlReturn.DRIVER_NOT_LOADED.code() ? "; is the NVIDIA kernel module loaded?"
                    : rc == NvmlReturn.LIB_RM_VERSION_MISMATCH.code() ? "; driver upgraded without a reboot?" : "";
            throw new NvmlException(rc, "nvmlInit_v2", library + hint);
        }
        return new FfmNvml(library, fn);
    }

    /**
     * Holds NVML open for one call: {@code try (var held = nvml.hold(fn)) { ...native call... }}. Throws
     * UNINITIALIZED after {@link #close()}, as the driver would once its last reference is gone.
     */
    CallGuard.Held hold(String function) {
        return guard.hold(function, f -> new NvmlException(Native.UNINITIALIZED, f, "this Nvml was closed"));
    }

    /** Whether {@link #close()} has begun: frees are skipped from then on. */
    boolean closed() {
        return guard.closed();
    }

    @Override
    public String driverVersion() {
        return systemString("nvmlSystemGetDriverVersion", fn.system.nvmlSystemGetDriverVersion);
    }

    @Override
    public String nvmlVersion() {
        return systemString("nvmlSystemGetNVMLVersion", fn.system.nvmlSystemGetNVMLVersion);
    }

    private String systemString(String function, MethodHandle h) {
        try (var held = hold(function); Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(Native.SYSTEM_VERSION_SIZE);
            check((int) h.invokeExact(buffer, Native.SYSTEM_VERSION_SIZE), function);
            return Native.string(buffer);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    @Override
    public int cudaDriverVersion() {
        boolean v2 = fn.system.nvmlSystemGetCudaDriverVersion_v2 != null;
        MethodHandle h = v2 ? fn.system.nvmlSystemGetCudaDriverVersion_v2 : fn.system.nvmlSystemGetCudaDriverVersion;
        String function = v2 ? "nvmlSystemGetCudaDriverVersion_v2" : "nvmlSystemGetCudaDriverVersion";
        try (var held = hold(function); Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            check((int) h.invokeExact(out), function);
            return out.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    @Override
    public int deviceCount() {
        try (var held = hold("nvmlDeviceGetCount_v2"); Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            check((int) fn.system.nvmlDeviceGetCount_v2.invokeExact(out), "nvmlDeviceGetCount_v2");
            return out.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    @Override
    public GpuDevice device(int index) {
        FfmGpuDevice cached = byIndex.get(index);
        if (cached != null && !guard.closed()) {
            return cached;
        }
        try (var held = hold("nvmlDeviceGetHandleByIndex_v2"); Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            check((int) fn.system.nvmlDeviceGetHandleByIndex_v2.invokeExact(index, out), "nvmlDeviceGetHandleByIndex_v2");
            return adopt(index, out.get(ADDRESS, 0));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    @Override
    public GpuDevice deviceByUuid(String uuid) {
        return deviceBy("nvmlDeviceGetHandleByUUID", fn.system.nvmlDeviceGetHandleByUUID, uuid);
    }

    @Override
    public GpuDevice deviceByPciBusId(String pciBusId) {
        return deviceBy("nvmlDeviceGetHandleByPciBusId_v2", fn.system.nvmlDeviceGetHandleByPciBusId_v2, pciBusId);
    }

    private GpuDevice deviceBy(String function, MethodHandle h, String key) {
        MemorySegment handle = handleBy(function, h, key);
        FfmGpuDevice known = byAddress.get(handle.address());
        if (known != null) {
            return known;
        }
        if (isMigHandle(handle)) {
            // nvmlDeviceGetHandleByUUID also takes a MIG device's UUID: that is not a GPU.
            throw new NvmlException(Native.NOT_FOUND, function, key + " names a MIG device, not a GPU (Nvml.migDeviceByUuid)");
        }
        return adopt(FfmGpuDevice.indexOf(this, handle), handle);
    }

    private MemorySegment handleBy(String function, MethodHandle h, String key) {
        try (var held = hold(function); Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            check((int) h.invokeExact(arena.allocateFrom(key), out), function);
            return out.get(ADDRESS, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code nvmlDeviceIsMigDeviceHandle}; NOT_SUPPORTED (a GPU without MIG) is a GPU handle. */
    private boolean isMigHandle(MemorySegment handle) {
        String function = "nvmlDeviceIsMigDeviceHandle";
        try (var held = hold(function); Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            int rc = (int) fn.mig.nvmlDeviceIsMigDeviceHandle.invokeExact(handle, out);
            if (rc == Native.NOT_SUPPORTED) {
                return false;
            }
            check(rc, function);
            return out.get(JAVA_INT, 0) != 0;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    @Override
    public MigDevice migDeviceByUuid(String uuid) {
        String function = "nvmlDeviceGetHandleByUUID";
        MemorySegment handle = handleBy(function, fn.system.nvmlDeviceGetHandleByUUID, uuid);
        if (!isMigHandle(handle)) {
            throw new NvmlException(Native.NOT_FOUND, function, uuid + " names a GPU, not a MIG device");
        }
        MemorySegment parent;
        int slot;
        try (var held = hold("nvmlDeviceGetDeviceHandleFromMigDeviceHandle"); Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            check((int) fn.mig.nvmlDeviceGetDeviceHandleFromMigDeviceHandle.invokeExact(handle, out),
                    "nvmlDeviceGetDeviceHandleFromMigDeviceHandle");
            parent = out.get(ADDRESS, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        // A MIG device's index is its slot under its GPU (what nvmlDeviceGetMigDeviceHandleByIndex takes).
        slot = FfmGpuDevice.indexOf(this, handle);
        FfmGpuDevice gpu = byAddress.get(parent.address());
        if (gpu == null) {
            gpu = adopt(FfmGpuDevice.indexOf(this, parent), parent);
        }
        return FfmMigDevice.read(gpu, slot, handle);
    }

    private FfmGpuDevice adopt(int index, MemorySegment handle) {
        FfmGpuDevice device = byIndex.computeIfAbsent(index, i -> new FfmGpuDevice(this, i, handle));
        byAddress.putIfAbsent(device.handle().address(), device);
        return device;
    }

    /** The device we opened with this handle address, or null (a handle this Nvml never returned). */
    FfmGpuDevice deviceAt(long address) {
        return byAddress.get(address);
    }

    /**
     * Every GPU this process can open. A GPU that answers NO_PERMISSION, GPU_IS_LOST, UNKNOWN or
     * INSUFFICIENT_POWER is left out rather than ending the enumeration: one sick board must not hide the
     * healthy ones (the sampler reads it by index and reports it). Other failures are the driver's, and throw.
     */
    @Override
    public List<GpuDevice> devices() {
        int count = deviceCount();
        List<GpuDevice> devices = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            try {
                devices.add(device(i));
            } catch (NvmlException e) {
                if (!skippable(e.result())) {
                    throw e;
                }
            }
        }
        return List.copyOf(devices);
    }

    private static boolean skippable(NvmlReturn r) {
        return r == NvmlReturn.NO_PERMISSION || r == NvmlReturn.GPU_IS_LOST || r == NvmlReturn.UNKNOWN
                || r == NvmlReturn.INSUFFICIENT_POWER;
    }

    @Override
    public EventSet createEventSet() {
        try (var held = hold("nvmlEventSetCreate"); Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            check((int) fn.events.nvmlEventSetCreate.invokeExact(out), "nvmlEventSetCreate");
            return new FfmEventSet(this, out.get(ADDRESS, 0));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Works before init and after shutdown: the strings are static in the library, which stays loaded. */
    @Override
    public String errorString(int code) {
        MemorySegment text;
        try {
            text = (MemorySegment) fn.system.nvmlErrorString.invokeExact(code);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        return text.equals(MemorySegment.NULL) ? NvmlReturn.of(code).name() : Native.string(text.reinterpret(256));
    }

    @Override
    public boolean drainState(PciInfo pci) {
        try (var held = hold("nvmlDeviceQueryDrainState"); Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            check((int) fn.control.nvmlDeviceQueryDrainState.invokeExact(Structs.pciInfo(arena, pci), out),
                    "nvmlDeviceQueryDrainState");
            return out.get(JAVA_INT, 0) != 0;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    @Override
    public void modifyDrainState(PciInfo pci, boolean drain) {
        try (var held = hold("nvmlDeviceModifyDrainState"); Arena arena = Arena.ofConfined()) {
            check((int) fn.control.nvmlDeviceModifyDrainState.invokeExact(Structs.pciInfo(arena, pci), drain ? 1 : 0),
                    "nvmlDeviceModifyDrainState");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    @Override
    public void removeGpu(PciInfo pci) {
        try (var held = hold("nvmlDeviceRemoveGpu_v2"); Arena arena = Arena.ofConfined()) {
            check((int) fn.control.nvmlDeviceRemoveGpu_v2.invokeExact(Structs.pciInfo(arena, pci),
                    DETACH_GPU_REMOVE, PCIE_LINK_KEEP), "nvmlDeviceRemoveGpu_v2");
        } catch (Throwable t) {
            throw rethrow(t);
        }
        // Indices and handles change after a removal (docs/nvml.md#drain-removal-and-reset): look them up afresh.
        byIndex.clear();
        byAddress.clear();
    }

    /**
     * {@code nvmlShutdown} once, after the calls in flight have returned; later calls do nothing. New calls
     * fail at once. A call still inside the driver after {@value CallGuard#CLOSE_WAIT_MS} ms (a hung GPU) keeps NVML
     * initialised: shutting it down under that call would crash the process, leaving it initialised cannot.
     */
    @Override
    public void close() {
        try {
            guard.shutDown(() -> new NvmlException(NvmlReturn.IN_USE.code(), "nvmlShutdown", "an NVML call is still in "
                    + "flight after " + CallGuard.CLOSE_WAIT_MS + " ms; NVML stays initialised rather than freed under it"),
                    () -> check((int) fn.system.nvmlShutdown.invokeExact(), "nvmlShutdown"));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    @Override
    public String toString() {
        return "Nvml[" + library + (guard.closed() ? ", closed]" : "]");
    }
}
