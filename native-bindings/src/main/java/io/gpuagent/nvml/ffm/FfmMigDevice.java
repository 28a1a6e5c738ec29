package io.gpuagent.nvml.ffm;

import static java.lang.foreign.ValueLayout.ADDRESS;

import io.gpuagent.nvml.GpuDevice;
import io.gpuagent.nvml.MemoryInfo;
import io.gpuagent.nvml.MigAttributes;
import io.gpuagent.nvml.MigDevice;
import io.gpuagent.nvml.NvmlException;
import io.gpuagent.nvml.ProcessInfo;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * {@link MigDevice} over one MIG device handle. Its identity is read when it is enumerated; its readings are calls
 * on the handle, which the driver invalidates with the instance (a later call answers INVALID_ARGUMENT, or the fake's
 * strict mode aborts): enumerate afresh rather than keep one.
 */
final class FfmMigDevice implements MigDevice {

    private final FfmGpuDevice parent;
    private final int slot;
    private final MemorySegment handle;
    private final String uuid;
    private final int gpuInstanceId;
    private final int computeInstanceId;
    private final DeviceCalls calls;
    private final Functions fn;

    private FfmMigDevice(FfmGpuDevice parent, int slot, MemorySegment handle, String uuid, int gpuInstanceId,
                         int computeInstanceId) {
        this.parent = parent;
        this.slot = slot;
        this.handle = handle;
        this.uuid = uuid;
        this.gpuInstanceId = gpuInstanceId;
        this.computeInstanceId = computeInstanceId;
        this.calls = parent.calls;
        this.fn = parent.fn;
    }

    /**
     * Reads the identity of the MIG device in {@code slot} of {@code parent}, after checking that the driver names
     * {@code parent} as its GPU (the same handle, or one with the same UUID).
     */
    static FfmMigDevice read(FfmGpuDevice parent, int slot, MemorySegment handle) {
        DeviceCalls calls = parent.calls;
        MigFunctions mig = parent.fn.mig;
        String function = "nvmlDeviceGetDeviceHandleFromMigDeviceHandle";
        MemorySegment named = calls.struct(function, ADDRESS,
                out -> (int) mig.nvmlDeviceGetDeviceHandleFromMigDeviceHandle.invokeExact(handle, out),
                out -> out.get(ADDRESS, 0));
        if (named.address() != parent.handle().address()) {
            String namedUuid = calls.string("nvmlDeviceGetUUID", Native.UUID_SIZE, parent.fn.identity.nvmlDeviceGetUUID, named);
            if (!namedUuid.equals(parent.uuid())) {
                throw new NvmlException(Native.UNKNOWN, function, "MIG device " + slot + " of " + parent
                        + " names another GPU as its parent (" + namedUuid + ")");
            }
        }
        String uuid = calls.string("nvmlDeviceGetUUID", Native.UUID_SIZE, parent.fn.identity.nvmlDeviceGetUUID, handle);
        int gi = calls.uint("nvmlDeviceGetGpuInstanceId", out -> (int) mig.nvmlDeviceGetGpuInstanceId.invokeExact(handle, out));
        int ci = calls.uint("nvmlDeviceGetComputeInstanceId",
                out -> (int) mig.nvmlDeviceGetComputeInstanceId.invokeExact(handle, out));
        return new FfmMigDevice(parent, slot, handle, uuid, gi, ci);
    }

    @Override
    public GpuDevice parent() {
        return parent;
    }

    @Override
    public int slot() {
        return slot;
    }

    @Override
    public String uuid() {
        return uuid;
    }

    @Override
    public int gpuInstanceId() {
        return gpuInstanceId;
    }

    @Override
    public int computeInstanceId() {
        return computeInstanceId;
    }

    @Override
    public MemoryInfo memoryInfo() {
        return FfmGpuDevice.memoryInfo(calls, fn, handle);
    }

    @Override
    public MigAttributes attributes() {
        return calls.struct("nvmlDeviceGetAttributes_v2", Layouts.DEVICE_ATTRIBUTES,
                out -> (int) fn.mig.nvmlDeviceGetAttributes_v2.invokeExact(handle, out), Structs::migAttributes);
    }

    @Override
    public List<ProcessInfo> computeProcesses() {
        return ProcessList.read(calls, "nvmlDeviceGetComputeRunningProcesses_v3",
                fn.processes.nvmlDeviceGetComputeRunningProcesses_v3, handle);
    }

    @Override
    public String toString() {
        return "MIG device " + slot + " of " + parent + " (GPU instance " + gpuInstanceId + ", compute instance "
                + computeInstanceId + ", " + uuid + ")";
    }
}
